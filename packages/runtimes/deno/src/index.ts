/**
 * The Deno adapter: `deno <flags> <entry>` for stdio functions, `deno <flags> <shim> <entry>` for
 * handlers (the JavaScript bootstrap shared with node and bun, from @fn/runtime-core). Only what
 * fn.yaml's `permissions` grant becomes an `--allow-*` flag; nothing is ever prompted for. The
 * npm:/jsr: imports of a function's deno.json are fetched at prepare time (src/deps.ts).
 */
import { existsSync } from 'node:fs'
import { dirname, join, relative, resolve } from 'node:path'
import type { FunctionDefinition } from '@fn/manifest'
import {
  type AdapterOptions,
  type BuildCacheStats,
  defineAdapter,
  execPathProbe,
  JS_HANDLER_SHIM,
  npmPackageBinary,
  type PrepareContext,
  type Requirement,
  type RuntimeAdapter,
} from '@fn/runtime-core'
import { type DenoDeps, DenoDepsInstaller } from './deps'

export type { DenoDeps } from './deps'

/** Options of the Deno adapter (extra flags go in `args`, e.g. `['--unstable-kv']`). */
export interface DenoOptions extends AdapterOptions {
  /** Extra `deno install` arguments, e.g. `['--allow-scripts=npm:sqlite3']`. Part of the cache key. Default `[]`. */
  installArgs?: string[]
  /**
   * Variables for `deno install` only, over the host's (e.g. `{ NPM_CONFIG_REGISTRY: '...' }`).
   * Never reach the function, except `DENO_DIR`: the function runs with the cache its packages
   * were fetched into. Part of the cache key. Default `{}`.
   */
  installEnv?: Record<string, string>
  /** An install fails with BUILD_FAILED after this long. Default 300 000 ms (5 min). */
  installTimeoutMs?: number
}

/** What `prepare` hands to `launch`. */
export interface DenoPrepared {
  /** The deno.json(c) given with `--config`, or undefined for `--no-config`. */
  config: string | undefined
  /** The fetched dependencies, when the config imports npm:, jsr: or https: modules. */
  deps?: DenoDeps
}

/** The Deno adapter, with install counters for tests and diagnostics. */
export interface DenoAdapter extends RuntimeAdapter<DenoPrepared> {
  /** Finds the function's config and fetches its dependencies; rejects with BUILD_FAILED. */
  prepare(fn: FunctionDefinition, ctx: PrepareContext): Promise<DenoPrepared>
  /** Dependency installs (`builds`) and stamp hits (`hits`) so far, over every cache folder. */
  installStats(): BuildCacheStats
}

export const requirement: Requirement = {
  bin: 'deno',
  minVersion: '2.0',
  install: 'npm i -D deno, or https://docs.deno.com/runtime/getting_started/installation',
}

/** The deno.json(c) nearest to the entry, looking no higher than the function folder. */
function findConfig(fn: FunctionDefinition): string | undefined {
  for (let dir = dirname(fn.entry); ; dir = dirname(dir)) {
    for (const name of ['deno.json', 'deno.jsonc']) {
      if (existsSync(join(dir, name))) return join(dir, name)
    }
    if (
      dir === dirname(dir) ||
      relative(fn.dir, dir) === '' ||
      relative(fn.dir, dir).startsWith('..')
    ) {
      return undefined
    }
  }
}

/**
 * fn.yaml `permissions` as `--allow-*` flags: `true` allows all of a kind, a list only what it
 * names, `false` nothing, except what the function cannot run without: reading its own folder
 * (Deno checks every module it imports at run time), the env variables fn.yaml declares, and
 * FN_CONCURRENCY with `pool.concurrency` > 1.
 */
function permissionFlags(fn: FunctionDefinition): string[] {
  const { permissions: p } = fn
  const paths = (list: string[]) => list.map((path) => resolve(fn.dir, path))
  const kinds: Array<[string, boolean | string[], string[]]> = [
    ['net', p.net, []],
    ['read', p.read === true || p.read === false ? p.read : paths(p.read), [fn.dir]],
    ['write', p.write === true || p.write === false ? p.write : paths(p.write), []],
    // The shim reads FN_CONCURRENCY when the host runs several calls per worker.
    [
      'env',
      p.env,
      [...Object.keys(fn.env), ...(fn.pool.concurrency > 1 ? ['FN_CONCURRENCY'] : [])],
    ],
    ['run', p.run, []],
  ]
  const flags: string[] = []
  for (const [kind, value, needed] of kinds) {
    if (value === true) {
      flags.push(`--allow-${kind}`)
      continue
    }
    const list = [...new Set([...needed, ...(value || [])])]
    if (list.length > 0) flags.push(`--allow-${kind}=${list.join(',')}`)
  }
  return flags
}

/**
 * Runs JavaScript and TypeScript functions on Deno, with least privilege.
 *
 *   createExecutor({ runtimes: [deno()] })
 */
export function deno(options: DenoOptions = {}): DenoAdapter {
  const installer = new DenoDepsInstaller({
    args: [...(options.installArgs ?? [])],
    env: { ...options.installEnv },
    timeoutMs: options.installTimeoutMs ?? 300_000,
  })

  async function prepare(fn: FunctionDefinition, ctx: PrepareContext): Promise<DenoPrepared> {
    const config = findConfig(fn)
    const deps = await installer.ensure(fn, config, ctx)
    return deps ? { config, deps } : { config }
  }

  const adapter = defineAdapter<DenoPrepared>({
    name: 'deno',
    extensions: ['.ts', '.tsx'],
    requirement,
    options,
    // node_modules/.bin/deno is a Node wrapper (~100 ms a start): the probe names the real binary.
    fallbacks: () => [npmPackageBinary('deno', ['deno', 'bin/deno'])],
    probe: execPathProbe([
      'eval',
      '--no-config',
      'console.log(Deno.version.deno + "\\n" + Deno.execPath())',
    ]),
    env: { passThrough: ['DENO_DIR'], set: { NO_COLOR: '1', DENO_NO_UPDATE_CHECK: '1' } },
    prepare,
    launch(fn, { prepared, kind }) {
      // Without a deno.json of its own, a function must not pick up one from a folder above it.
      const config = prepared?.config ? `--config=${prepared.config}` : '--no-config'
      const args = ['--no-prompt', config]
      const deps = prepared?.deps
      // The lockfile of the install: exactly what was fetched, and no deno.lock written beside the function.
      if (deps?.lock) args.push(`--lock=${deps.lock}`)
      args.push(...permissionFlags(fn))
      if (fn.memoryMb) args.push(`--v8-flags=--max-old-space-size=${fn.memoryMb}`)
      // `deno <flags> <script>` is `deno run`: so `args` given in the options land before it.
      args.push(...(kind === 'worker' ? [JS_HANDLER_SHIM, fn.entry] : [fn.entry]))
      return deps ? { args, env: { DENO_DIR: deps.denoDir } } : { args }
    },
  })
  return Object.assign(adapter as RuntimeAdapter<DenoPrepared> & Pick<DenoAdapter, 'prepare'>, {
    installStats: (): BuildCacheStats => installer.stats(),
  })
}
