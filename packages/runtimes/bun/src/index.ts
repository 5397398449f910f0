/**
 * The Bun adapter: `bun <entry>` for stdio functions, `bun <shim> <entry>` for handlers (the
 * JavaScript bootstrap shared with node and deno, from @fn/runtime-core). Dependencies in a
 * function's package.json are installed with `bun install` at prepare time (PackageDeps in @fn/runtime-core).
 */
import type { FunctionDefinition } from '@fn/manifest'
import {
  type AdapterOptions,
  type BuildCacheStats,
  defineAdapter,
  execPathProbe,
  type InstalledDeps,
  JS_HANDLER_SHIM,
  npmPackageBinary,
  PackageDeps,
  type PrepareContext,
  type Requirement,
  type RuntimeAdapter,
} from '@fn/runtime-core'
import { bunTool } from './bun-tool'

export type { InstalledDeps } from '@fn/runtime-core'

/** Options of the Bun adapter (extra flags go in `args`, e.g. `['--smol']`). */
export interface BunOptions extends AdapterOptions {
  /**
   * Run the lifecycle scripts of dependencies at install, as `bun install` does by default (those
   * of packages in package.json's `trustedDependencies` and of Bun's own list of trusted
   * packages). They run on the host with the installer's environment, so they are off by default
   * (`bun install --ignore-scripts`). Part of the cache key. Default false.
   */
  installScripts?: boolean
  /** Extra `bun install` arguments, e.g. `['--linker=isolated']`. Part of the cache key. Default `[]`. */
  installArgs?: string[]
  /**
   * Variables for `bun install` only, over the host's (e.g.
   * `{ BUN_CONFIG_REGISTRY: 'https://npm.example.com/' }`). Never reach the function. Part of
   * the cache key. Default `{}`.
   */
  installEnv?: Record<string, string>
  /** An install fails with BUILD_FAILED after this long. Default 300 000 ms (5 min). */
  installTimeoutMs?: number
}

/** What `prepare` hands to `launch`. */
export interface BunPrepared {
  /** The function's installed package.json dependencies, if it declares any. */
  deps?: InstalledDeps
}

/** The Bun adapter, with install counters for tests and diagnostics. */
export interface BunAdapter extends RuntimeAdapter<BunPrepared> {
  /** Installs the function's dependencies, if it declares any; rejects with BUILD_FAILED. */
  prepare(fn: FunctionDefinition, ctx: PrepareContext): Promise<BunPrepared>
  /** Dependency installs (`builds`) and cache hits (`hits`) so far, over every cache folder. */
  installStats(): BuildCacheStats
}

export const requirement: Requirement = {
  bin: 'bun',
  minVersion: '1.2',
  install: 'npm i -D bun, or https://bun.sh/docs/installation',
}

/**
 * Bun loads .env files from the working folder by itself, and downloads a missing package on
 * import when no node_modules is around: functions get only declared env, and only the packages
 * installed at prepare time.
 */
const RUN_FLAGS = ['--no-env-file', '--no-install']

/**
 * Runs JavaScript and TypeScript functions on Bun.
 *
 *   createExecutor({ runtimes: [bun()] })
 */
export function bun(options: BunOptions = {}): BunAdapter {
  const deps = new PackageDeps(bunTool, {
    scripts: options.installScripts ?? false,
    args: [...(options.installArgs ?? [])],
    env: { ...options.installEnv },
    timeoutMs: options.installTimeoutMs ?? 300_000,
  })

  async function prepare(fn: FunctionDefinition, ctx: PrepareContext): Promise<BunPrepared> {
    const installed = await deps.ensure(fn, ctx)
    return installed ? { deps: installed } : {}
  }

  const adapter = defineAdapter<BunPrepared>({
    name: 'bun',
    extensions: ['.ts', '.tsx'],
    requirement,
    options,
    fallbacks: () => [npmPackageBinary('bun', ['bin/bun.exe', 'bin/bun'])],
    probe: execPathProbe([
      '--no-env-file',
      '-e',
      'console.log(Bun.version + "\\n" + process.execPath)',
    ]),
    prepare,
    launch: (fn, { kind }) => ({
      args:
        kind === 'worker' ? [...RUN_FLAGS, JS_HANDLER_SHIM, fn.entry] : [...RUN_FLAGS, fn.entry],
    }),
  })
  return Object.assign(adapter as RuntimeAdapter<BunPrepared> & Pick<BunAdapter, 'prepare'>, {
    installStats: (): BuildCacheStats => deps.stats(),
  })
}
