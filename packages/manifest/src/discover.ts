import type { Dirent } from 'node:fs'
import { readdir, stat } from 'node:fs/promises'
import { dirname, extname, join, relative, resolve } from 'node:path'
import { FnError } from '@fn/protocol'
import { entryExtensions } from './detect'
import { ManifestError, makeIssue } from './errors'
import { asFnError, loadFunction, MANIFEST_FILE } from './load'
import { positionOf } from './positions'
import type { FunctionDefinition, LoadOptions } from './types'

export interface DiscoveryProblem {
  /** Absolute path of the function folder. */
  dir: string
  error: FnError
}

export interface DiscoveryResult {
  /** Valid functions, sorted by name. */
  functions: FunctionDefinition[]
  /** One entry per folder that could not be loaded, sorted by folder. */
  problems: DiscoveryProblem[]
}

/** Folders discovery never looks into. */
export function isSkippedFolder(name: string): boolean {
  return name.startsWith('.') || name.startsWith('_') || name === 'node_modules'
}

/** Is `dir` meant to be a function? It has fn.yaml/fn.yml or a file with an entry extension. */
async function looksLikeFunction(dir: string, options?: LoadOptions): Promise<boolean> {
  const exts = new Set(entryExtensions(options))
  for (const item of await readdir(dir, { withFileTypes: true })) {
    if (item.isDirectory()) continue
    if (item.name === MANIFEST_FILE || item.name === 'fn.yml') return true
    if (exts.has(extname(item.name).toLowerCase())) return true
  }
  return false
}

/**
 * Loads every function folder in `functionsDir` (each subfolder; dot-folders, `_`-prefixed folders
 * and node_modules are skipped, as are folders without fn.yaml and without any source file).
 * One broken function never hides the others: it becomes a problem. Functions whose names
 * collide are all left out, with one problem per folder naming every folder involved.
 * Throws a FnError `FUNCTION_NOT_FOUND` only when `functionsDir` itself is not a folder.
 */
export async function discover(
  functionsDir: string,
  options: LoadOptions = {},
): Promise<DiscoveryResult> {
  const root = resolve(functionsDir)
  let entries: Dirent[]
  try {
    entries = await readdir(root, { withFileTypes: true })
  } catch (cause) {
    throw new FnError(
      'FUNCTION_NOT_FOUND',
      `[fn] functions folder ${root} does not exist or cannot be read: create it or point to the right folder`,
      { cause, details: { dir: root } },
    )
  }

  const candidates: string[] = []
  for (const item of entries) {
    if (isSkippedFolder(item.name)) continue
    const dir = join(root, item.name)
    if (item.isDirectory()) candidates.push(dir)
    else if (item.isSymbolicLink()) {
      try {
        if ((await stat(dir)).isDirectory()) candidates.push(dir)
      } catch {
        // a dangling link is no function
      }
    }
  }

  const problems: DiscoveryProblem[] = []
  const loaded: FunctionDefinition[] = []
  await Promise.all(
    candidates.map(async (dir) => {
      try {
        if (!(await looksLikeFunction(dir, options))) return
        loaded.push(await loadFunction(dir, options))
      } catch (error) {
        problems.push({ dir, error: asFnError(error, dir) })
      }
    }),
  )

  const byName = new Map<string, FunctionDefinition[]>()
  for (const fn of loaded) byName.set(fn.name, [...(byName.get(fn.name) ?? []), fn])
  const functions: FunctionDefinition[] = []
  for (const [name, group] of byName) {
    if (group.length === 1) {
      functions.push(group[0]!)
      continue
    }
    const dirs = group.map((fn) => fn.dir).sort()
    const shown = dirs.map((dir) => relative(dirname(root), dir))
    for (const fn of group) {
      const file = fn.manifestFile ?? fn.dir
      const { line, column } = positionOf(fn, 'name')
      problems.push({
        dir: fn.dir,
        error: new ManifestError(file, [
          makeIssue({
            file,
            line,
            column,
            path: 'name',
            what: `duplicate function name "${name}"`,
            hint: `it is used by ${shown.join(' and ')}; names must be unique, so none of them is registered: rename a folder or change name: in its fn.yaml`,
          }),
        ]),
      })
    }
  }

  functions.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0))
  problems.sort((a, b) => (a.dir < b.dir ? -1 : a.dir > b.dir ? 1 : 0))
  return { functions, problems }
}
