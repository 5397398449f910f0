import { readdir, readFile, realpath, stat } from 'node:fs/promises'
import { dirname, extname, isAbsolute, join, relative, resolve, sep } from 'node:path'
import { FnError } from '@fn/protocol'
import { ManifestError, makeIssue } from './errors'
import { positionOf } from './positions'
import { isInsidePath, RELATIVE_PATH_EXPECTED } from './schema'
import type { LoadOptions, Manifest, RuntimeName } from './types'

/** Extensions tried for `index.*`, `main.*` and `handler.*`, in this order. */
export const ENTRY_EXTENSIONS: readonly string[] = [
  '.ts',
  '.tsx',
  '.js',
  '.mjs',
  '.cjs',
  '.py',
  '.go',
]

const BUILTIN_RUNTIMES: Record<string, RuntimeName> = {
  '.js': 'node',
  '.mjs': 'node',
  '.cjs': 'node',
  '.py': 'python',
  '.go': 'go',
}
const TYPESCRIPT = new Set(['.ts', '.tsx'])

const DENO_MARKERS = ['deno.json', 'deno.jsonc']
const BUN_MARKERS = ['bunfig.toml', 'bun.lock', 'bun.lockb']
const NODE_HINT_DEPENDENCIES = ['@types/node', 'tsx', 'ts-node']

function normalizeExtension(ext: string): string {
  const lower = ext.toLowerCase()
  return lower.startsWith('.') ? lower : `.${lower}`
}

/** `options.extensions` with keys normalized to `.ext`. */
function extraExtensions(options?: LoadOptions): Map<string, RuntimeName> {
  const out = new Map<string, RuntimeName>()
  for (const [ext, runtime] of Object.entries(options?.extensions ?? {})) {
    out.set(normalizeExtension(ext), runtime)
  }
  return out
}

/** Every extension an entry may have: the built-in ones, then the option ones. */
export function entryExtensions(options?: LoadOptions): string[] {
  const out = [...ENTRY_EXTENSIONS]
  for (const ext of extraExtensions(options).keys()) if (!out.includes(ext)) out.push(ext)
  return out
}

/** File names tried as the entry, in order: `index.*`, `main.*`, `mod.ts`, `handler.*`. */
export function entryCandidates(options?: LoadOptions): string[] {
  const exts = entryExtensions(options)
  return [
    ...exts.map((ext) => `index${ext}`),
    ...exts.map((ext) => `main${ext}`),
    'mod.ts',
    ...exts.map((ext) => `handler${ext}`),
  ]
}

/** A sentence naming the entry candidates, for messages. */
export function describeCandidates(options?: LoadOptions): string {
  const exts = entryExtensions(options)
  return `index.*, main.*, mod.ts or handler.* with extension ${exts.slice(0, -1).join(', ')} or ${exts[exts.length - 1]}`
}

function isInside(root: string, path: string): boolean {
  const rel = relative(root, path)
  return rel === '' || (!rel.startsWith(`..${sep}`) && rel !== '..' && !isAbsolute(rel))
}

async function realDir(dir: string): Promise<string> {
  try {
    const real = await realpath(dir)
    if ((await stat(real)).isDirectory()) return real
  } catch {
    // reported below
  }
  throw new FnError(
    'FUNCTION_NOT_FOUND',
    `[fn] function folder ${dir} does not exist or is not a folder`,
    { details: { dir } },
  )
}

/** The entry lies inside the fn.yaml build's `output` folder. */
function builtBy(manifest: Manifest, root: string, entry: string): boolean {
  const output = manifest.build?.output
  if (!output || !isInsidePath(output)) return false
  const out = resolve(root, output)
  return entry.startsWith(`${out}${sep}`)
}

/**
 * The absolute path of the entry file of the function in `dir`: fn.yaml `entry:` when the manifest
 * has one, else the first existing of `index.*`, `main.*`, `mod.ts`, `handler.*` (extensions in
 * the order of ENTRY_EXTENSIONS, then `options.extensions`). An entry that is absolute, climbs out
 * with `..`, or is a symlink resolving outside the folder is rejected with a ManifestError, as is
 * a missing entry.
 */
export async function detectEntry(
  dir: string,
  manifest?: Manifest,
  options?: LoadOptions,
): Promise<string> {
  const root = resolve(dir)
  const realRoot = await realDir(root)
  const where = positionOf(manifest, 'entry')
  const fail = (message: Omit<Parameters<typeof makeIssue>[0], 'file' | 'path'>): never => {
    const file = where.file ?? root
    throw new ManifestError(file, [
      makeIssue({ ...message, file, line: where.line, column: where.column, path: 'entry' }),
    ])
  }

  let entry: string
  if (manifest?.entry !== undefined) {
    const declared = manifest.entry
    if (typeof declared !== 'string' || !isInsidePath(declared)) {
      return fail({ expected: RELATIVE_PATH_EXPECTED, found: declared, hasFound: true })
    }
    entry = resolve(root, declared)
    let info: Awaited<ReturnType<typeof stat>> | undefined
    try {
      info = await stat(entry)
    } catch {
      info = undefined
    }
    if (info === undefined && builtBy(manifest, root, entry)) {
      // The fn.yaml build produces the entry: it exists once the build has run.
      return entry
    }
    if (info === undefined) {
      return fail({
        what: `entry "${declared}" not found`,
        hint: `no such file in ${root}: fix entry: in fn.yaml or create the file`,
      })
    }
    if (!info.isFile()) {
      return fail({
        what: `entry "${declared}" is not a file`,
        hint: 'entry: names the file that holds the function',
      })
    }
  } else {
    const names = new Set<string>()
    for (const item of await readdir(root, { withFileTypes: true })) {
      if (item.isFile() || item.isSymbolicLink()) names.add(item.name)
    }
    let found: string | undefined
    for (const candidate of entryCandidates(options)) {
      if (!names.has(candidate)) continue
      try {
        if ((await stat(join(root, candidate))).isFile()) {
          found = candidate
          break
        }
      } catch {
        // a dangling symlink is not an entry
      }
    }
    if (found === undefined) {
      return fail({
        what: `no entry file found in ${root}`,
        expected: describeCandidates(options),
        hint: 'create one, or name the file with entry: in fn.yaml',
      })
    }
    entry = join(root, found)
  }

  const realEntry = await realpath(entry)
  if (!isInside(realRoot, realEntry)) {
    return fail({
      what: `entry "${relative(root, entry)}" resolves outside the function folder`,
      hint: `it is a link to ${realEntry}; the entry must live inside ${root}`,
    })
  }
  return entry
}

async function exists(path: string): Promise<boolean> {
  try {
    await stat(path)
    return true
  } catch {
    return false
  }
}

/** Whether a package.json says its TypeScript is for node (see README: detection rules). */
async function packageJsonSaysNode(path: string): Promise<boolean> {
  let data: unknown
  try {
    data = JSON.parse(await readFile(path, 'utf8'))
  } catch {
    return false
  }
  if (typeof data !== 'object' || data === null) return false
  const pkg = data as Record<string, unknown>
  const engines = pkg.engines as Record<string, unknown> | undefined
  if (typeof engines === 'object' && engines !== null && engines.node !== undefined) return true
  if (pkg.type === 'module' || pkg.type === 'commonjs') return true
  for (const field of ['dependencies', 'devDependencies', 'peerDependencies']) {
    const deps = pkg[field]
    if (typeof deps === 'object' && deps !== null) {
      for (const name of NODE_HINT_DEPENDENCIES) if (Object.hasOwn(deps, name)) return true
    }
  }
  return false
}

/**
 * The runtime for an entry file when fn.yaml does not name one. `.py` python, `.go` go,
 * `.js/.mjs/.cjs` node, `options.extensions` for the rest (it may also override these).
 * `.ts/.tsx` looks beside the entry, then in each parent up to the function folder: deno.json(c)
 * means deno, bunfig.toml/bun.lock(b) bun, a package.json that says so node (engines.node, a
 * "type" field, or a dependency on @types/node, tsx or ts-node). The nearest folder that decides
 * wins; deno and bun markers together, or no marker at all, fall back to `options.defaultRuntime`
 * and else are a ManifestError that names the choices.
 */
export async function detectRuntime(
  entry: string,
  dir: string,
  options?: LoadOptions,
): Promise<RuntimeName> {
  const root = resolve(dir)
  const file = resolve(root, entry)
  const ext = extname(file).toLowerCase()
  const extra = extraExtensions(options).get(ext)
  if (extra !== undefined) return extra
  const builtin = BUILTIN_RUNTIMES[ext]
  if (builtin !== undefined) return builtin
  const rel = relative(root, file).split(sep).join('/')
  const fail = (what: string, hint: string): never => {
    throw new ManifestError(root, [makeIssue({ file: root, path: 'runtime', what, hint })])
  }
  if (!TYPESCRIPT.has(ext)) {
    const known = [
      ...Object.keys(BUILTIN_RUNTIMES),
      ...TYPESCRIPT,
      ...extraExtensions(options).keys(),
    ]
    return fail(
      `cannot tell the runtime of entry "${rel}"`,
      `the extension "${ext || '(none)'}" is not one of ${known.join(', ')}: set runtime: in fn.yaml, or map the extension to a runtime with the extensions option`,
    )
  }

  let conflict: string[] | undefined
  let folder = dirname(file)
  for (;;) {
    const deno = await firstExisting(folder, DENO_MARKERS)
    const bun = await firstExisting(folder, BUN_MARKERS)
    if (deno !== undefined && bun !== undefined) {
      conflict = [deno, bun].map((marker) => relative(root, join(folder, marker)) || marker)
      break
    }
    if (deno !== undefined) return 'deno'
    if (bun !== undefined) return 'bun'
    if (await packageJsonSaysNode(join(folder, 'package.json'))) return 'node'
    if (folder === root || !isInside(root, folder)) break
    const parent = dirname(folder)
    if (parent === folder) break
    folder = parent
  }
  if (options?.defaultRuntime !== undefined) return options.defaultRuntime
  const found =
    conflict === undefined
      ? 'no deno.json, deno.jsonc, bunfig.toml, bun.lock or package.json saying node is beside it'
      : `both ${conflict.join(' and ')} are beside it`
  return fail(
    `cannot tell which runtime runs "${rel}"`,
    `a TypeScript entry runs on deno, bun or node, and ${found}: settle it with "runtime: deno" (or bun, node) in fn.yaml, or with a default runtime for TypeScript on the executor (defaultRuntime)`,
  )
}

async function firstExisting(
  folder: string,
  names: readonly string[],
): Promise<string | undefined> {
  for (const name of names) if (await exists(join(folder, name))) return name
  return undefined
}
