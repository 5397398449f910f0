/**
 * The Go adapter. A function is built once into a content-addressed cache and the binary is
 * exec'd directly: never `go run` per call. stdio functions are the user's own package main;
 * handler functions are a package main with a `Handler` and no main(), served by a generated
 * `fn_main.go` (shim/main.go.tmpl).
 */
import { existsSync } from 'node:fs'
import { mkdir, readFile } from 'node:fs/promises'
import { join, posix } from 'node:path'
import type { FunctionDefinition } from '@fn/manifest'
import {
  type AdapterOptions,
  type BuildCacheStats,
  BuildCaches,
  defineAdapter,
  FnError,
  functionEnv,
  hashInputs,
  listFiles,
  type PrepareContext,
  type Requirement,
  type RuntimeAdapter,
  type RuntimeInfo,
  runProcess,
  shimPath,
} from '@fn/runtime-core'
import { type BuildPlan, buildFunction, SHIM_FILE } from './build'
import { localReplaces } from './gomod'

export interface GoOptions extends AdapterOptions {
  /**
   * Path (or PATH name) of the `go` command. Default: `go` on PATH (resolved to `$GOROOT/bin/go`),
   * then `$GOROOT/bin/go`, `/usr/local/go/bin/go`, `/usr/lib/go/bin/go`.
   */
  bin?: string
  /** Arguments passed to the built program on every start. Default `[]`. */
  args?: string[]
  /** Extra `go build` flags, after the fixed `-trimpath -buildvcs=false` (and `-mod=mod`). Default `[]`. */
  buildFlags?: string[]
  /** Variables for `go build` only, over the host's Go settings (e.g. `{ CGO_ENABLED: '0' }`). Default `{}`. */
  buildEnv?: Record<string, string>
  /** A build (module downloads included) is killed and fails after this long. Default 300 000 ms (5 min). */
  buildTimeoutMs?: number
}

/** What `prepare` returns: the built program of one function. */
export interface GoBuild {
  /** Absolute path of the binary in the build cache. */
  binary: string
  /** The build key (sha256 of every input). */
  key: string
  /** Built with the generated handler main (else the user's own main). */
  handler: boolean
}

/** The Go adapter, with build counters for tests and diagnostics. */
export interface GoAdapter extends RuntimeAdapter<GoBuild> {
  /** Builds the function (or finds it in the cache); rejects with BUILD_FAILED. */
  prepare(fn: FunctionDefinition, ctx: PrepareContext): Promise<GoBuild>
  /** Builds run and cache hits so far, over every cache folder this adapter used. */
  buildStats(): BuildCacheStats
}

export const requirement: Requirement = {
  bin: 'go',
  minVersion: '1.21',
  install: 'https://go.dev/doc/install, or apt-get install golang-go',
}

/** The handler shim, added to the function's package main as `fn_main.go`. */
export const GO_HANDLER_SHIM: string = shimPath(import.meta.url, 'main.go.tmpl')

/** Host variables `go build` sees, so the host's module and build caches are reused. */
const BUILD_ENV: readonly string[] = [
  'GOPATH',
  'GOCACHE',
  'GOMODCACHE',
  'GOPROXY',
  'GOFLAGS',
  'GONOPROXY',
  'GONOSUMDB',
  'GOPRIVATE',
  'GOSUMDB',
  'GOINSECURE',
  'GOENV',
  'GOAMD64',
  'GOARM64',
  'CGO_ENABLED',
  'CC',
  'CXX',
  'XDG_CACHE_HOME',
  'XDG_CONFIG_HOME',
  'HTTP_PROXY',
  'HTTPS_PROXY',
  'NO_PROXY',
  'http_proxy',
  'https_proxy',
  'no_proxy',
  'SSL_CERT_FILE',
  'SSL_CERT_DIR',
]

/** Toolchain settings that change the binary; part of every build key. */
const TOOLCHAIN_VARS = [
  'GOVERSION',
  'GOOS',
  'GOARCH',
  'GOAMD64',
  'GOARM',
  'GOARM64',
  'GO386',
  'CGO_ENABLED',
  'GOEXPERIMENT',
  'GOFLAGS',
]

/** Bumped when the build procedure changes in a way that changes binaries. */
const BUILD_FORMAT = 'fn-go-build-1'

export function go(options: GoOptions = {}): GoAdapter {
  const flags = [...(options.buildFlags ?? [])]
  const extraEnv = { ...options.buildEnv }
  const timeoutMs = options.buildTimeoutMs ?? 300_000
  const buildEnv = functionEnv({
    passThrough: BUILD_ENV,
    set: { GOWORK: 'off', GOTOOLCHAIN: 'local', ...extraEnv },
  })
  const caches = new BuildCaches()
  const toolchains = new Map<string, Promise<string>>()
  let shim: Promise<string> | undefined

  function toolchain(runtime: RuntimeInfo, cwd: string): Promise<string> {
    let known = toolchains.get(runtime.bin)
    if (!known) {
      known = (async () => {
        const result = await runProcess(
          { command: runtime.bin, args: ['env', '-json', ...TOOLCHAIN_VARS], env: buildEnv, cwd },
          { timeoutMs: 30_000 },
        )
        if (result.exitCode !== 0) {
          toolchains.delete(runtime.bin)
          throw new FnError(
            'BUILD_FAILED',
            `[fn] \`${runtime.bin} env\` failed (${result.spawnError?.message ?? `exit code ${result.exitCode}`}): ${result.stderrTail.trim()}`,
          )
        }
        return result.stdout.toString('utf8')
      })()
      toolchains.set(runtime.bin, known)
    }
    return known
  }

  async function prepare(fn: FunctionDefinition, ctx: PrepareContext): Promise<GoBuild> {
    if (ctx.signal?.aborted)
      throw new FnError('CANCELLED', `[fn] building function "${fn.name}" was cancelled`)
    const handler = fn.protocol === 'handler'
    const entryDir = posix.dirname(fn.entryRelative)
    await mkdir(ctx.cacheDir, { recursive: true })
    const files = await listFiles(fn.dir)
    if (handler && files.includes(posix.join(entryDir, SHIM_FILE))) {
      throw new FnError(
        'BUILD_FAILED',
        `[fn] function "${fn.name}": ${posix.join(entryDir, SHIM_FILE)} is reserved for the generated handler main; rename that file`,
      )
    }
    const hasGoMod = files.includes('go.mod')
    const gomod = hasGoMod ? await readFile(join(fn.dir, 'go.mod'), 'utf8') : ''
    const replaces = localReplaces(gomod, fn.dir)
    shim ??= readFile(GO_HANDLER_SHIM, 'utf8')
    const plan: BuildPlan = {
      fn,
      runtime: ctx.runtime,
      handler,
      files,
      hasGoMod,
      replaces,
      vendor: files.includes('vendor/modules.txt'),
      entryDir,
      binary: fn.name,
      flags,
      env: buildEnv,
      timeoutMs,
      shim: handler ? await shim : '',
    }

    const extra = [
      BUILD_FORMAT,
      `name:${fn.name}`,
      `kind:${handler ? 'handler' : 'stdio'}`,
      `entry:${entryDir}`,
      `toolchain:${await toolchain(ctx.runtime, ctx.cacheDir)}`,
      `flags:${JSON.stringify(flags)}`,
      `env:${JSON.stringify(extraEnv)}`,
      `shim:${plan.shim}`,
    ]
    for (const r of replaces) extra.push(`replace:${r.old}=${await hashDir(r.dir)}`)
    const key = await hashInputs(fn.dir, files, extra)

    const cache = caches.at(ctx.cacheDir)
    const dir = await cache.ensure(key, (out) => buildFunction(plan, out))
    return { binary: join(dir, plan.binary), key, handler }
  }

  const adapter = defineAdapter<GoBuild>({
    name: 'go',
    extensions: ['.go'],
    requirement,
    options,
    fallbacks: () => [
      process.env['GOROOT'] ? join(process.env['GOROOT'], 'bin', 'go') : undefined,
      '/usr/local/go/bin/go',
      '/usr/lib/go/bin/go',
    ],
    probe: {
      // One call gives the version and the real binary ($GOROOT/bin/go), past any wrapper.
      args: ['env', 'GOVERSION', 'GOROOT'],
      parse: (stdout) => {
        const [goversion, goroot] = stdout
          .trim()
          .split('\n')
          .map((s) => s.trim())
        const m = /go(\d+\.\d+(?:\.\d+)?)/.exec(goversion ?? '')
        if (!m?.[1]) return undefined
        const real = goroot ? join(goroot, 'bin', 'go') : undefined
        return real && existsSync(real) ? { version: m[1], bin: real } : { version: m[1] }
      },
    },
    prepare,
    launch: (fn, ctx) => {
      if (!ctx.prepared?.binary) {
        throw new FnError(
          'BUILD_FAILED',
          `[fn] function "${fn.name}" was not built: call prepare() before launch()`,
        )
      }
      const env: Record<string, string> = {}
      // A soft limit: the Go GC works harder near it, but the process is not killed at it.
      if (fn.memoryMb) env['GOMEMLIMIT'] = `${fn.memoryMb}MiB`
      return { command: ctx.prepared.binary, args: [], env }
    },
  })

  return Object.assign(adapter as RuntimeAdapter<GoBuild> & Pick<GoAdapter, 'prepare'>, {
    buildStats: (): BuildCacheStats => caches.stats(),
  })
}

async function hashDir(dir: string): Promise<string> {
  try {
    return await hashInputs(dir, await listFiles(dir))
  } catch {
    // Missing: `go build` says so with the module's own words.
    return 'missing'
  }
}
