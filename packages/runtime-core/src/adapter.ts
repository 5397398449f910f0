/**
 * The adapter contract. An adapter says how to find its runtime, how to start a process for a
 * function (oneshot stdio or warm worker), and optionally how to build it. It never spawns,
 * times out, frames or pools anything itself: runtime-core does that, once, for all of them.
 */
import { execFile } from 'node:child_process'
import { accessSync, constants, realpathSync } from 'node:fs'
import { createRequire } from 'node:module'
import { delimiter, dirname, isAbsolute, join, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'
import type { FunctionDefinition } from '@fn/manifest'
import { FnError } from '@fn/protocol'
import { functionEnv } from './env'
import type { LaunchSpec } from './process'

export const CONTRACT_VERSION = 1 as const

/** What the adapter needs from the machine. */
export interface Requirement {
  /** Binary name looked up on PATH. */
  bin: string
  /** Lowest version that works, e.g. "2.0" (compared numerically, major.minor.patch). */
  minVersion?: string
  /** How to install it, shown when it is missing. */
  install: string
}

/** A runtime binary found on this machine. */
export interface RuntimeInfo {
  name: string
  /** Absolute path of the real binary (wrappers and shims resolved). */
  bin: string
  version: string
}

/** Options every adapter factory accepts. */
export interface AdapterOptions {
  /** Path (or PATH name) of the runtime binary. Default: the requirement's binary on PATH, then adapter fallbacks. */
  bin?: string
  /** Extra runtime arguments, placed before the entry. Default []. */
  args?: string[]
  /** Host environment variables passed through to function processes. Default []. */
  passEnv?: string[]
}

export type ProcessKind = 'stdio' | 'worker'

export interface PrepareContext {
  runtime: RuntimeInfo
  /** A folder this adapter owns for build outputs. */
  cacheDir: string
  signal?: AbortSignal
}

export interface LaunchContext<P> {
  runtime: RuntimeInfo
  /** What `prepare` returned (undefined without a prepare step). */
  prepared: P
  kind: ProcessKind
}

/** What `launch` returns: runtime-core fills in cwd and the environment. */
export interface LaunchArgs {
  /** Default: the runtime binary. */
  command?: string
  args: string[]
  /** Extra variables for this process (over the adapter's and under the function's). */
  env?: Record<string, string>
}

export interface RuntimeAdapter<P = unknown> {
  readonly contract: typeof CONTRACT_VERSION
  readonly name: string
  /** Entry extensions this runtime claims, e.g. ['.py']. */
  readonly extensions: readonly string[]
  readonly requirement: Requirement
  /** Finds the binary once; rejects with RUNTIME_NOT_AVAILABLE and an install hint. */
  resolve(): Promise<RuntimeInfo>
  /** Builds what needs building (cached by content); rejects with BUILD_FAILED. */
  prepare?(fn: FunctionDefinition, ctx: PrepareContext): Promise<P>
  /** The complete launch of a process for `fn`. */
  launch(fn: FunctionDefinition, ctx: LaunchContext<P>): LaunchSpec
}

export interface AdapterDefinition<P> {
  name: string
  extensions: readonly string[]
  requirement: Requirement
  options?: AdapterOptions
  /** Absolute paths to try after PATH, e.g. a binary inside an npm package. */
  fallbacks?: () => Array<string | undefined>
  /** Asks a candidate binary its version (and, for shims like pyenv's, the real binary). */
  probe: {
    args: string[]
    parse: (stdout: string) => { version: string; bin?: string } | undefined
  }
  /** Host variables the runtime itself needs, and values it always gets. */
  env?: { passThrough?: string[]; set?: Record<string, string> }
  prepare?: (fn: FunctionDefinition, ctx: PrepareContext) => Promise<P>
  launch: (fn: FunctionDefinition, ctx: LaunchContext<P>) => LaunchArgs
}

/** Defines an adapter: fills defaults, resolves the binary once, stamps the contract version. */
export function defineAdapter<P = undefined>(def: AdapterDefinition<P>): RuntimeAdapter<P> {
  const options = def.options ?? {}
  let resolved: Promise<RuntimeInfo> | undefined
  const passThrough = [...(def.env?.passThrough ?? []), ...(options.passEnv ?? [])]
  const adapter: RuntimeAdapter<P> = {
    contract: CONTRACT_VERSION,
    name: def.name,
    extensions: def.extensions,
    requirement: def.requirement,
    resolve() {
      resolved ??= findRuntime(def, options)
      return resolved
    },
    launch(fn, ctx) {
      const launch = def.launch(fn, ctx)
      return {
        command: launch.command ?? ctx.runtime.bin,
        args: [...(options.args ?? []), ...launch.args],
        cwd: fn.dir,
        env: functionEnv({
          passThrough,
          set: { ...def.env?.set, ...launch.env },
          declared: fn.env,
        }),
      }
    },
  }
  if (def.prepare) adapter.prepare = def.prepare
  return adapter
}

/** Finds an executable by name on PATH (or checks a path). */
export function which(name: string, path = process.env['PATH'] ?? ''): string | undefined {
  if (name.includes('/')) return executable(resolve(name))
  for (const dir of path.split(delimiter)) {
    if (!dir) continue
    const found = executable(join(dir, name))
    if (found) return found
  }
  return undefined
}

function executable(path: string): string | undefined {
  try {
    accessSync(path, constants.X_OK)
    return path
  } catch {
    return undefined
  }
}

/** This package's folder: where a project that installed fn resolves its dependencies from. */
const HERE = dirname(fileURLToPath(import.meta.url))

/**
 * A binary shipped inside an npm package (e.g. `deno`, `bun`), resolved the way Node resolves a
 * dependency: from each of `from` in turn (default: the current directory, then the folder of
 * this package, so a project that installed the package beside fn finds it from anywhere).
 */
export function npmPackageBinary(
  pkg: string,
  relativePaths: string[],
  from: string | readonly string[] = [process.cwd(), HERE],
): string | undefined {
  for (const base of typeof from === 'string' ? [from] : from) {
    let dir: string
    try {
      dir = dirname(createRequire(join(base, 'package.json')).resolve(`${pkg}/package.json`))
    } catch {
      continue
    }
    for (const rel of relativePaths) {
      const found = executable(join(dir, rel))
      if (found) return realpathSync(found)
    }
  }
  return undefined
}

/** Absolute path of a bootstrap shim shipped in a package (`shim/` next to `src/` or `dist/`). */
export function shimPath(moduleUrl: string, file: string): string {
  return fileURLToPath(new URL(`../shim/${file}`, moduleUrl))
}

/** The JavaScript bootstrap shared by the node, deno and bun adapters. */
export const JS_HANDLER_SHIM: string = shimPath(import.meta.url, 'handler.mjs')

/**
 * A probe that asks the runtime itself for its version and the path of its real executable, so
 * a wrapper found on PATH (node_modules/.bin/deno, a version manager's shim) is resolved once and
 * never run again. `args` must make the runtime print `<version>\n<absolute executable path>`.
 */
export function execPathProbe(args: string[]): AdapterDefinition<unknown>['probe'] {
  return {
    args,
    parse(stdout) {
      const [version, bin] = stdout
        .trim()
        .split('\n')
        .map((line) => line.trim())
      if (!version || !/^\d+\.\d+/.test(version)) return undefined
      return bin && isAbsolute(bin) ? { version, bin } : { version }
    },
  }
}

async function findRuntime(
  def: Pick<AdapterDefinition<unknown>, 'name' | 'requirement' | 'probe' | 'fallbacks'>,
  options: AdapterOptions,
): Promise<RuntimeInfo> {
  const tried: string[] = []
  const candidates: Array<string | undefined> = options.bin
    ? [which(options.bin)]
    : [which(def.requirement.bin), ...(def.fallbacks?.() ?? [])]
  if (options.bin) tried.push(isAbsolute(options.bin) ? options.bin : `"${options.bin}" on PATH`)
  else tried.push(`"${def.requirement.bin}" on PATH`)
  const problems: string[] = []
  for (const candidate of candidates) {
    if (!candidate) continue
    const out = await run(candidate, def.probe.args)
    const parsed = out === undefined ? undefined : def.probe.parse(out)
    if (!parsed) {
      problems.push(`${candidate} did not answer ${def.probe.args.join(' ')}`)
      continue
    }
    if (
      def.requirement.minVersion &&
      compareVersions(parsed.version, def.requirement.minVersion) < 0
    ) {
      problems.push(
        `${candidate} is version ${parsed.version}, fn needs ${def.requirement.minVersion} or newer`,
      )
      continue
    }
    // A binary the probe named is the real one already: resolving its symlinks would lose a
    // Python venv (venv/bin/python is a symlink, and the venv is found from its path).
    const bin = parsed.bin ? resolve(parsed.bin) : realpathSync(candidate)
    return { name: def.name, bin, version: parsed.version }
  }
  const fix = `install it (${def.requirement.install}) or pass ${def.name}({ bin: '/path/to/${def.requirement.bin}' })`
  const why = problems.length ? problems.join('; ') : `not found (looked for ${tried.join(', ')})`
  throw new FnError('RUNTIME_NOT_AVAILABLE', `[fn] runtime "${def.name}": ${why}: ${fix}`, {
    details: { runtime: def.name, install: def.requirement.install },
  })
}

function run(bin: string, args: string[]): Promise<string | undefined> {
  return new Promise((resolvePromise) => {
    execFile(bin, args, { timeout: 15_000, encoding: 'utf8' }, (error, stdout) => {
      resolvePromise(error ? undefined : stdout)
    })
  })
}

/** Numeric comparison of dotted versions: compareVersions('2.9.6', '2.0') > 0. */
export function compareVersions(a: string, b: string): number {
  const pa = a.split(/[.+-]/).map((x) => Number.parseInt(x, 10) || 0)
  const pb = b.split(/[.+-]/).map((x) => Number.parseInt(x, 10) || 0)
  for (let i = 0; i < Math.max(pa.length, pb.length); i++) {
    const d = (pa[i] ?? 0) - (pb[i] ?? 0)
    if (d !== 0) return d
  }
  return 0
}
