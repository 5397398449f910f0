/**
 * The Node.js adapter: `node <entry>` for stdio functions, `node <shim> <entry>` for handlers
 * (the JavaScript bootstrap shared with deno and bun, from @fn/runtime-core). Dependencies in a
 * function's package.json are installed with npm at prepare time (PackageDeps in @fn/runtime-core).
 */
import { createRequire } from 'node:module'
import { extname, join } from 'node:path'
import { pathToFileURL } from 'node:url'
import type { FunctionDefinition } from '@fn/manifest'
import {
  type AdapterOptions,
  type BuildCacheStats,
  compareVersions,
  defineAdapter,
  execPathProbe,
  FnError,
  type InstalledDeps,
  JS_HANDLER_SHIM,
  PackageDeps,
  type PrepareContext,
  type Requirement,
  type RuntimeAdapter,
  type RuntimeInfo,
} from '@fn/runtime-core'
import { npmTool } from './npm'

export type { InstalledDeps } from '@fn/runtime-core'

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
  /**
   * The npm that installs functions' package.json dependencies: a path or a PATH name. Default:
   * the npm next to the resolved node (`<dir of node>/npm`), else `npm` on PATH; an npm-cli.js
   * runs on that node.
   */
  npm?: string
  /**
   * Run the install scripts (`preinstall`, `install`, `postinstall`) of dependencies. They run on
   * the host with the installer's environment (registry tokens included), so they are off by
   * default (`npm --ignore-scripts`); turn them on for packages that build native addons.
   * Part of the cache key. Default false.
   */
  installScripts?: boolean
  /** Extra `npm ci` / `npm install` arguments, e.g. `['--legacy-peer-deps']`. Part of the cache key. Default `[]`. */
  installArgs?: string[]
  /**
   * Variables for npm only, over the host's npm settings (e.g.
   * `{ npm_config_registry: 'https://npm.example.com/' }`). Never reach the function. Part of
   * the cache key. Default `{}`.
   */
  installEnv?: Record<string, string>
  /** An install fails with BUILD_FAILED after this long. Default 300 000 ms (5 min). */
  installTimeoutMs?: number
}

/** What `prepare` hands to `launch`. */
export interface NodePrepared {
  /** Flags that make Node run the entry (TypeScript). */
  flags: string[]
  /** The function's installed package.json dependencies, if it declares any. */
  deps?: InstalledDeps
}

/** The Node adapter, with install counters for tests and diagnostics. */
export interface NodeAdapter extends RuntimeAdapter<NodePrepared> {
  /** Installs the function's dependencies (if any) and settles its flags; rejects with BUILD_FAILED. */
  prepare(fn: FunctionDefinition, ctx: PrepareContext): Promise<NodePrepared>
  /** Dependency installs (`builds`) and cache hits (`hits`) so far, over every cache folder. */
  installStats(): BuildCacheStats
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
export function node(options: NodeOptions = {}): NodeAdapter {
  const deps = new PackageDeps(npmTool(options.npm), {
    scripts: options.installScripts ?? false,
    args: [...(options.installArgs ?? [])],
    env: { ...options.installEnv },
    timeoutMs: options.installTimeoutMs ?? 300_000,
  })

  async function prepare(fn: FunctionDefinition, ctx: PrepareContext): Promise<NodePrepared> {
    // Dependencies first: a TypeScript loader may come from them.
    const installed = await deps.ensure(fn, ctx)
    const flags = entryFlags(fn, ctx.runtime, options)
    return installed ? { flags, deps: installed } : { flags }
  }

  const adapter = defineAdapter<NodePrepared>({
    name: 'node',
    extensions: ['.js', '.mjs', '.cjs'],
    requirement,
    options,
    // The `node` on PATH is the user's choice; the Node running fn is the fallback.
    fallbacks: () => [process.execPath],
    probe: execPathProbe(['-p', 'process.versions.node + "\\n" + process.execPath']),
    prepare,
    launch(fn, { prepared, kind }) {
      const flags = [...(prepared?.flags ?? [])]
      if (fn.memoryMb) flags.push(`--max-old-space-size=${fn.memoryMb}`)
      return {
        args: kind === 'worker' ? [...flags, JS_HANDLER_SHIM, fn.entry] : [...flags, fn.entry],
      }
    },
  })
  return Object.assign(adapter as RuntimeAdapter<NodePrepared> & Pick<NodeAdapter, 'prepare'>, {
    installStats: (): BuildCacheStats => deps.stats(),
  })
}
