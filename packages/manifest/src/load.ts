import { readFile } from 'node:fs/promises'
import { availableParallelism } from 'node:os'
import { basename, join, relative, resolve, sep } from 'node:path'
import { FnError, isFnError } from '@fn/protocol'
import { detectEntry, detectRuntime } from './detect'
import { resolveEnv } from './env'
import { ManifestError, makeIssue } from './errors'
import { parseManifest } from './parse'
import { origins } from './positions'
import { NAME_EXPECTED, NAME_PATTERN } from './schema'
import type { FunctionDefinition, LoadOptions, Manifest, Permissions, PoolConfig } from './types'

export const MANIFEST_FILE = 'fn.yaml'
export const DEFAULT_TIMEOUT_MS = 30_000
export const DEFAULT_IDLE_TIMEOUT_MS = 60_000

async function readText(path: string): Promise<string | undefined> {
  try {
    return await readFile(path, 'utf8')
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code
    if (code === 'ENOENT' || code === 'ENOTDIR') return undefined
    throw new FnError('INVALID_MANIFEST', `[fn] cannot read ${path}: ${(error as Error).message}`, {
      cause: error,
      details: { file: path },
    })
  }
}

/** Reads and parses `dir/fn.yaml`; `undefined` when there is none. */
export async function readManifest(
  dir: string,
): Promise<{ manifest: Manifest; file: string } | undefined> {
  const file = join(dir, MANIFEST_FILE)
  const text = await readText(file)
  if (text === undefined) {
    const yml = join(dir, 'fn.yml')
    if ((await readText(yml)) !== undefined) {
      throw new ManifestError(yml, [
        makeIssue({
          file: yml,
          path: '',
          what: 'manifest named fn.yml',
          hint: 'fn reads fn.yaml: rename the file to fn.yaml',
        }),
      ])
    }
    return undefined
  }
  return { manifest: parseManifest(text, file), file }
}

/**
 * Loads the function in `dir`: parses its fn.yaml (if any), detects entry and runtime, fills every
 * default and resolves `${VAR}` in env from `options.hostEnv` (default `process.env`). Throws a
 * ManifestError (`INVALID_MANIFEST`) for anything wrong with the folder or its fn.yaml, and a
 * FnError `FUNCTION_NOT_FOUND` when `dir` is not a folder.
 */
export async function loadFunction(
  dir: string,
  options: LoadOptions = {},
): Promise<FunctionDefinition> {
  const root = resolve(dir)
  const parsed = await readManifest(root)
  const manifest = parsed?.manifest ?? {}
  const manifestFile = parsed?.file

  const name = manifest.name ?? basename(root)
  if (manifest.name === undefined && !NAME_PATTERN.test(name)) {
    throw new ManifestError(root, [
      makeIssue({
        file: root,
        path: 'name',
        what: `folder name "${name}" is not a valid function name`,
        expected: NAME_EXPECTED,
        hint: 'rename the folder, or set name: in fn.yaml',
      }),
    ])
  }

  const entry = await detectEntry(root, manifest, options)
  const runtime = manifest.runtime ?? (await detectRuntime(entry, root, options))
  const protocol = manifest.protocol ?? 'handler'
  const mode = manifest.mode ?? (protocol === 'stdio' ? 'oneshot' : 'warm')

  const pool: PoolConfig = {
    min: manifest.pool?.min ?? 0,
    // Not `concurrency`: that caps calls in flight, this caps processes. A default below `min`
    // would make a manifest valid on one machine and invalid on a smaller one.
    max: manifest.pool?.max ?? Math.max(availableParallelism(), manifest.pool?.min ?? 0),
    idleTimeoutMs: manifest.pool?.idleTimeoutMs ?? DEFAULT_IDLE_TIMEOUT_MS,
    maxRequests: manifest.pool?.maxRequests ?? 0,
    concurrency: manifest.pool?.concurrency ?? 1,
  }
  const permissions: Permissions = {
    net: false,
    read: false,
    write: false,
    env: false,
    run: false,
    ...manifest.permissions,
  }
  const env = resolveEnv(
    manifest.env ?? {},
    options.hostEnv ?? process.env,
    manifestFile ?? join(root, MANIFEST_FILE),
  )

  const definition: FunctionDefinition = {
    name,
    dir: root,
    entry,
    entryRelative: relative(root, entry).split(sep).join('/'),
    runtime,
    protocol,
    mode,
    timeoutMs: manifest.timeoutMs ?? options.defaults?.timeoutMs ?? DEFAULT_TIMEOUT_MS,
    pool,
    env,
    permissions,
  }
  if (manifest.memoryMb !== undefined) definition.memoryMb = manifest.memoryMb
  if (manifest.concurrency !== undefined) definition.concurrency = manifest.concurrency
  if (manifest.build !== undefined) definition.build = manifest.build
  if (manifest.description !== undefined) definition.description = manifest.description
  if ('sampleInput' in manifest) definition.sampleInput = manifest.sampleInput
  if (manifest.routes !== undefined) definition.routes = manifest.routes
  if (manifestFile !== undefined) definition.manifestFile = manifestFile
  const origin = origins.get(manifest)
  if (origin !== undefined) origins.set(definition, origin)
  return definition
}

/** Any error as a FnError, for discovery problems. */
export function asFnError(error: unknown, dir: string): FnError {
  if (isFnError(error)) return error
  const message = error instanceof Error ? error.message : String(error)
  return new FnError('INVALID_MANIFEST', `[fn] cannot load the function in ${dir}: ${message}`, {
    cause: error,
    details: { dir },
  })
}
