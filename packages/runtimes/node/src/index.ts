/**
 * The Node.js adapter: `node <entry>` for stdio functions, `node <shim> <entry>` for handlers
 * (the JavaScript bootstrap shared with deno and bun, from @fn/runtime-core).
 */
import { createRequire } from 'node:module'
import { extname, join } from 'node:path'
import { pathToFileURL } from 'node:url'
import type { FunctionDefinition } from '@fn/manifest'
import {
  type AdapterOptions,
  compareVersions,
  defineAdapter,
  execPathProbe,
  FnError,
  JS_HANDLER_SHIM,
  type Requirement,
  type RuntimeAdapter,
  type RuntimeInfo,
} from '@fn/runtime-core'

export interface NodeOptions extends AdapterOptions {
  /**
   * How TypeScript entries (`.ts`, `.mts`, `.cts`) run.
   * `'auto'`: Node's own type stripping where the version has it (22.6 and newer), else `tsLoader`.
   * `'loader'`: always `tsLoader` (for what stripping cannot do: enums, namespaces, tsconfig paths).
   * Default `'auto'`.
   */
  typescript?: 'auto' | 'loader'
  /**
   * The module given to `node --import` to run TypeScript without type stripping, resolved from
   * the function folder first, then from this package. Default `'tsx'` (install it: `npm i -D tsx`).
   */
  tsLoader?: string
}

export const requirement: Requirement = {
  bin: 'node',
  minVersion: '20.0',
  install: 'https://nodejs.org/en/download',
}

const TYPESCRIPT = new Set(['.ts', '.mts', '.cts'])

/** Node's own type stripping: on by default from 22.18 and 23.6, behind a flag from 22.6. */
function typeStripping(version: string): 'default' | 'flag' | 'none' {
  if (compareVersions(version, '23.6') >= 0) return 'default'
  if (compareVersions(version, '23.0') >= 0) return 'flag'
  if (compareVersions(version, '22.18') >= 0) return 'default'
  return compareVersions(version, '22.6') >= 0 ? 'flag' : 'none'
}

/** Flags that make this Node run the function's entry (none for JavaScript). */
function entryFlags(fn: FunctionDefinition, runtime: RuntimeInfo, options: NodeOptions): string[] {
  if (!TYPESCRIPT.has(extname(fn.entry))) return []
  const stripping = typeStripping(runtime.version)
  if (options.typescript !== 'loader' && stripping !== 'none') {
    const quiet = '--disable-warning=ExperimentalWarning'
    return stripping === 'flag' ? ['--experimental-strip-types', quiet] : [quiet]
  }
  const loader = options.tsLoader ?? 'tsx'
  const path = resolveFrom([join(fn.dir, 'package.json'), import.meta.url], loader)
  if (path) return ['--import', pathToFileURL(path).href]
  const why =
    stripping === 'none'
      ? `node ${runtime.version} cannot run TypeScript by itself (type stripping needs Node 22.6 or newer)`
      : `node({ typescript: 'loader' }) needs a TypeScript loader`
  throw new FnError(
    'RUNTIME_NOT_AVAILABLE',
    `[fn] function "${fn.name}" (${fn.entryRelative}): ${why}, and the loader "${loader}" was not found from ${fn.dir}: install it (npm i -D ${loader.split('/')[0]}), use Node 22.6 or newer, or pass node({ tsLoader: '/path/to/loader' })`,
    { details: { runtime: 'node', version: runtime.version, loader } },
  )
}

function resolveFrom(parents: string[], specifier: string): string | undefined {
  for (const parent of parents) {
    try {
      return createRequire(parent).resolve(specifier)
    } catch {
      // not installed there
    }
  }
  return undefined
}

/**
 * Runs JavaScript (and TypeScript) functions on Node.js.
 *
 *   createExecutor({ runtimes: [node()] })
 */
export function node(options: NodeOptions = {}): RuntimeAdapter {
  return defineAdapter<{ flags: string[] }>({
    name: 'node',
    extensions: ['.js', '.mjs', '.cjs'],
    requirement,
    options,
    // The `node` on PATH is the user's choice; the Node running fn is the fallback.
    fallbacks: () => [process.execPath],
    probe: execPathProbe(['-p', 'process.versions.node + "\\n" + process.execPath']),
    prepare: async (fn, { runtime }) => ({ flags: entryFlags(fn, runtime, options) }),
    launch(fn, { prepared, kind }) {
      const flags = [...(prepared?.flags ?? [])]
      if (fn.memoryMb) flags.push(`--max-old-space-size=${fn.memoryMb}`)
      return {
        args: kind === 'worker' ? [...flags, JS_HANDLER_SHIM, fn.entry] : [...flags, fn.entry],
      }
    },
  })
}
