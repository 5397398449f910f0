/**
 * The executor: discovers functions, builds them, serves invocations through one runner per
 * function (warm pool or oneshot), under a global concurrency limit, with stats and reload.
 */
import { randomUUID } from 'node:crypto'
import { dirname, join, resolve, sep } from 'node:path'
import {
  discover,
  ENTRY_EXTENSIONS,
  type FunctionDefinition,
  type LoadOptions,
  loadFunction,
} from '@fn/manifest'
import { FnError, type FnRequestContext, type FnResponse, isFnError } from '@fn/protocol'
import {
  createRunner,
  hashInputs,
  Limiter,
  listFiles,
  type Runner,
  type RunnerOptions,
  type RuntimeAdapter,
  type RuntimeInfo,
} from '@fn/runtime-core'
import { type FunctionStats, StatsRecorder } from './stats'
import { watchFolder } from './watch'

export interface ExecutorOptions {
  /** The functions folder to discover. */
  dir?: string
  /** Function folders (or definitions) to serve, instead of or besides `dir`. */
  functions?: Array<string | FunctionDefinition>
  /** The adapters to use: `[node(), python()]`. Nothing is registered implicitly. */
  runtimes: RuntimeAdapter[]
  defaults?: {
    /** Settles an ambiguous `.ts` entry. */
    runtime?: string
    /** Timeout of functions whose fn.yaml does not set one. Default 30 s. */
    timeoutMs?: number
  }
  /** Invocations in flight across all functions. Default 64. */
  concurrency?: number
  /** Callers allowed to wait, at the executor's gate and at each function's. Default 4096. */
  maxQueue?: number
  /** How long a caller may wait for a slot before BUSY. Default 30 s. */
  queueTimeoutMs?: number
  /**
   * Build outputs (compiled Go binaries, venvs, dependency installs, bytecode). Default: `.fn/cache`
   * beside the functions folder (`<dir>/../.fn/cache`), else in the current folder: the same place
   * whatever folder the host runs from, so builds are reused across restarts.
   */
  cacheDir?: string
  /** Host environment for `${VAR}` in fn.yaml env. Default process.env. */
  hostEnv?: Record<string, string | undefined>
  /** `invoke` throws FnError instead of resolving with a failed response. Default false. */
  throwOnError?: boolean
  /** Host-side events: problems found, builds, stray function output. Default: none. */
  onEvent?: (event: ExecutorEvent) => void
  /** Fine-tuning passed to every runner. */
  runner?: Partial<Omit<RunnerOptions, 'cacheDir' | 'onStray'>>
}

export type ExecutorEvent =
  | { type: 'problem'; dir: string; error: FnError }
  | { type: 'ready' | 'reloaded'; name: string; runtime: string }
  | { type: 'unavailable'; name: string; error: FnError }
  | { type: 'stray'; name: string; stream: 'stdout' | 'stderr'; text: string }

export interface InvokeOptions {
  requestId?: string
  context?: FnRequestContext
  timeoutMs?: number
  signal?: AbortSignal
  throwOnError?: boolean
  /**
   * A handler's `output` is a `RawJson` holding the JSON text the function wrote: for servers
   * that write it on without parsing it (integers beyond 2^53 stay exact). Default false.
   */
  rawOutput?: boolean
}

export interface FunctionSummary {
  name: string
  runtime: string
  protocol: string
  mode: string
  description?: string
  /**
   * 'ready'; 'error' with the reason (build failed, runtime missing, invalid fn.yaml); or
   * 'stale': the last good version still serves while the current files are broken.
   */
  status: 'ready' | 'error' | 'stale'
  error?: { code: string; message: string }
}

/** A definition as shown to clients: env names only, never values. */
export interface FunctionDetail extends FunctionSummary {
  entry: string
  timeoutMs: number
  memoryMb?: number
  concurrency?: number
  pool: FunctionDefinition['pool']
  env: string[]
  permissions: FunctionDefinition['permissions']
  sampleInput?: unknown
  runtimeVersion?: string
}

export interface ExecutorStats {
  uptimeMs: number
  inFlight: number
  queued: number
  functions: Record<string, FunctionStats>
}

interface Entry {
  def?: FunctionDefinition
  dir: string
  runner?: Runner
  error?: FnError
  fingerprint?: string
  stats: StatsRecorder
}

export class Executor {
  private readonly entries = new Map<string, Entry>()
  private readonly problemList: Array<{ dir: string; error: FnError }> = []
  private readonly limiter: Limiter
  private readonly adapters = new Map<string, RuntimeAdapter>()
  private readonly started = Date.now()
  private readonly cacheDir: string
  private closed = false
  private verify = false
  private reloading: Promise<void> | undefined
  private reloadAgain: Promise<void> | undefined
  private stopWatching: (() => Promise<void>) | undefined

  constructor(private readonly options: ExecutorOptions) {
    for (const adapter of options.runtimes) this.adapters.set(adapter.name, adapter)
    this.limiter = new Limiter({
      max: options.concurrency ?? 64,
      ...(options.maxQueue !== undefined ? { maxQueue: options.maxQueue } : {}),
      ...(options.queueTimeoutMs !== undefined ? { waitTimeoutMs: options.queueTimeoutMs } : {}),
      label: 'the executor',
    })
    const home = options.dir ? dirname(resolve(options.dir)) : process.cwd()
    this.cacheDir = resolve(options.cacheDir ?? join(home, '.fn', 'cache'))
  }

  /**
   * Discovers, validates and builds every function; problems are kept, never thrown. With
   * `verify`, every handler function also starts one worker, so a module that does not load
   * (a syntax error, a missing handler) shows as BUILD_FAILED now rather than on its first call.
   */
  async start(options: { verify?: boolean } = {}): Promise<void> {
    this.verify = options.verify ?? false
    await this.reload()
  }

  /**
   * Re-reads the functions; changed ones are rebuilt and swapped in once ready. Calls made while
   * a reload runs share one follow-up reload.
   */
  reload(): Promise<void> {
    if (this.reloading) {
      this.reloadAgain ??= this.reloading.then(() => {
        this.reloadAgain = undefined
        return this.reload()
      })
      return this.reloadAgain
    }
    this.reloading = this.reloadNow().finally(() => {
      this.reloading = undefined
    })
    return this.reloading
  }

  private async reloadNow(): Promise<void> {
    const { found, problems } = await this.load()
    this.problemList.length = 0
    this.problemList.push(...problems)
    for (const p of problems) this.emit({ type: 'problem', ...p })
    const seen = new Set<string>()
    const queue = [...found]
    const workers = Array.from({ length: 2 }, async () => {
      for (let def = queue.shift(); def; def = queue.shift()) {
        seen.add(def.name)
        await this.install(def)
      }
    })
    await Promise.all(workers)
    for (const p of problems) {
      // A function whose fn.yaml broke keeps serving its last good version, with the error shown.
      const name = [...this.entries.values()].find((e) => e.dir === p.dir)?.def?.name
      if (name) {
        seen.add(name)
        const entry = this.entries.get(name)!
        entry.error = p.error
      }
    }
    for (const [name, entry] of this.entries) {
      if (seen.has(name)) continue
      this.entries.delete(name)
      void entry.runner?.close()
    }
  }

  list(): FunctionSummary[] {
    return [...this.entries.values()]
      .filter((e) => e.def)
      .map((e) => this.summary(e))
      .sort((a, b) => a.name.localeCompare(b.name))
  }

  get(name: string): FunctionDetail | undefined {
    const e = this.entries.get(name)
    if (!e?.def) return undefined
    const d = e.def
    return {
      ...this.summary(e),
      entry: d.entryRelative,
      timeoutMs: d.timeoutMs,
      ...(d.memoryMb !== undefined ? { memoryMb: d.memoryMb } : {}),
      ...(d.concurrency !== undefined ? { concurrency: d.concurrency } : {}),
      pool: d.pool,
      env: Object.keys(d.env).sort(),
      permissions: d.permissions,
      ...(d.sampleInput !== undefined ? { sampleInput: d.sampleInput } : {}),
      ...(e.runner ? { runtimeVersion: e.runner.runtime.version } : {}),
    }
  }

  /** Problems found while loading (invalid fn.yaml, duplicate names, ...). */
  problems(): Array<{ dir: string; error: FnError }> {
    return [...this.problemList]
  }

  /** Resolves to a response for every outcome; see `throwOnError`. */
  async invoke(name: string, input: unknown, options: InvokeOptions = {}): Promise<FnResponse> {
    const started = performance.now()
    const requestId = options.requestId ?? randomUUID()
    const entry = this.entries.get(name)
    const fail = (error: FnError): FnResponse => {
      entry?.stats.record(performance.now() - started, false, error.code)
      return this.finish(
        {
          request_id: requestId,
          success: false,
          error: error.toJSON(),
          logs: [],
          duration_ms: ms(performance.now() - started),
        },
        options,
      )
    }
    if (this.closed) return fail(new FnError('CANCELLED', '[fn] the executor is closed'))
    if (!entry?.def) {
      const known = [...this.entries.keys()].sort().join(', ') || 'none'
      return fail(
        new FnError('FUNCTION_NOT_FOUND', `[fn] no function named "${name}" (known: ${known})`, {
          details: { name },
        }),
      )
    }
    if (!entry.runner)
      return fail(
        entry.error ?? new FnError('RUNTIME_NOT_AVAILABLE', `[fn] "${name}" is not ready`),
      )
    // The input is serialised once, by the runner, which answers INVALID_INPUT if it cannot be.
    let release: () => void
    try {
      release = await this.limiter.acquire(options.signal)
    } catch (err) {
      return fail(err as FnError)
    }
    const queuedMs = performance.now() - started
    const runner = entry.runner
    let outcome: Awaited<ReturnType<Runner['invoke']>>
    try {
      outcome = await runner.invoke(
        { request_id: requestId, function: name, input, context: options.context ?? {} },
        {
          ...(options.timeoutMs !== undefined ? { timeoutMs: options.timeoutMs } : {}),
          ...(options.signal ? { signal: options.signal } : {}),
          ...(options.rawOutput ? { rawOutput: true } : {}),
        },
      )
    } finally {
      release()
    }
    const duration = performance.now() - started
    entry.stats.record(
      duration,
      outcome.cold,
      outcome.ok ? undefined : (outcome.error?.code ?? 'FUNCTION_ERROR'),
    )
    const response: FnResponse = {
      request_id: requestId,
      success: outcome.ok,
      ...(outcome.ok ? { output: outcome.output } : {}),
      ...(outcome.error ? { error: outcome.error } : {}),
      logs: outcome.logs,
      duration_ms: ms(duration),
      cold: outcome.cold,
      queue_ms: ms(queuedMs + outcome.queueMs),
      run_ms: ms(outcome.runMs),
    }
    return this.finish(response, options)
  }

  stats(): ExecutorStats {
    const functions: Record<string, FunctionStats> = {}
    for (const [name, e] of this.entries)
      functions[name] = e.stats.snapshot(e.runner?.stats().alive ?? 0)
    return {
      uptimeMs: Date.now() - this.started,
      inFlight: this.limiter.running,
      queued: this.limiter.queued,
      functions,
    }
  }

  /**
   * Watches the functions folder and reloads on change (debounced): added, removed and renamed
   * functions, edited sources, fn.yaml and dependency files. Resolves once watching; the
   * returned function stops it. Needs `dir`.
   */
  async watch(options: { debounceMs?: number } = {}): Promise<() => Promise<void>> {
    const dir = this.options.dir
    if (!dir)
      throw new FnError(
        'INVALID_INPUT',
        '[fn] watch() needs createExecutor({ dir }) to know what to watch',
      )
    if (this.stopWatching) return this.stopWatching
    const stop = await watchFolder(
      resolve(dir),
      options.debounceMs ?? 80,
      () => {
        void this.reload().catch((err) =>
          this.emit({ type: 'problem', dir, error: toFnError(err) }),
        )
      },
      // What a function's own build writes is not a change to react to.
      (path) => !this.buildOutputs().some((out) => path === out || path.startsWith(`${out}${sep}`)),
    )
    this.stopWatching = async () => {
      this.stopWatching = undefined
      await stop()
    }
    return this.stopWatching
  }

  private buildOutputs(): string[] {
    const outs: string[] = []
    for (const e of this.entries.values()) {
      if (e.def?.build?.output) outs.push(resolve(e.def.dir, e.def.build.output))
    }
    return outs
  }

  /** Drains in-flight calls and stops every process. */
  async close(): Promise<void> {
    this.closed = true
    await this.stopWatching?.()
    await Promise.all([...this.entries.values()].map((e) => e.runner?.close()))
  }

  private finish(response: FnResponse, options: InvokeOptions): FnResponse {
    if (!response.success && (options.throwOnError ?? this.options.throwOnError)) {
      const e = response.error!
      throw new FnError(e.code, e.message, { details: { ...asObject(e.details), response } })
    }
    return response
  }

  private summary(e: Entry): FunctionSummary {
    const d = e.def!
    return {
      name: d.name,
      runtime: d.runtime,
      protocol: d.protocol,
      mode: d.mode,
      ...(d.description ? { description: d.description } : {}),
      status: !e.runner ? 'error' : e.error ? 'stale' : 'ready',
      ...(e.error ? { error: { code: e.error.code, message: e.error.message } } : {}),
    }
  }

  private async load(): Promise<{
    found: FunctionDefinition[]
    problems: Array<{ dir: string; error: FnError }>
  }> {
    const opts: LoadOptions = {
      ...(this.options.defaults?.runtime ? { defaultRuntime: this.options.defaults.runtime } : {}),
      ...(this.options.defaults?.timeoutMs
        ? { defaults: { timeoutMs: this.options.defaults.timeoutMs } }
        : {}),
      ...(this.options.hostEnv ? { hostEnv: this.options.hostEnv } : {}),
      // Built-in detection rules (DESIGN.md) stay; adapters add the extensions they bring.
      extensions: Object.fromEntries(
        this.options.runtimes.flatMap((a) =>
          a.extensions
            .filter((ext) => !ENTRY_EXTENSIONS.includes(ext))
            .map((ext) => [ext, a.name] as const),
        ),
      ),
    }
    const found: FunctionDefinition[] = []
    const problems: Array<{ dir: string; error: FnError }> = []
    if (this.options.dir) {
      const result = await discover(resolve(this.options.dir), opts)
      found.push(...result.functions)
      problems.push(...result.problems)
    }
    for (const f of this.options.functions ?? []) {
      if (typeof f !== 'string') {
        found.push(f)
        continue
      }
      try {
        found.push(await loadFunction(resolve(f), opts))
      } catch (err) {
        problems.push({ dir: resolve(f), error: toFnError(err) })
      }
    }
    return { found, problems }
  }

  /** Builds a runner for `def` unless an identical one serves already; swaps it in when ready. */
  private async install(def: FunctionDefinition): Promise<void> {
    const previous = this.entries.get(def.name)
    const fingerprint = await hashInputs(def.dir, await listFiles(def.dir), [JSON.stringify(def)])
    if (previous?.fingerprint === fingerprint && previous.runner) {
      delete previous.error
      return
    }
    const entry: Entry = previous ?? { dir: def.dir, stats: new StatsRecorder() }
    const adapter = this.adapters.get(def.runtime)
    if (!adapter) {
      const names = [...this.adapters.keys()].join(', ') || 'none'
      this.fail(
        entry,
        def,
        new FnError(
          'RUNTIME_NOT_AVAILABLE',
          `[fn] function "${def.name}" needs runtime "${def.runtime}", which is not registered (registered: ${names}): add ${def.runtime}() to createExecutor({ runtimes })`,
        ),
      )
      return
    }
    try {
      const runner = await createRunner(adapter, def, {
        ...this.options.runner,
        cacheDir: join(this.cacheDir, adapter.name),
        ...(this.options.maxQueue !== undefined ? { maxQueue: this.options.maxQueue } : {}),
        ...(this.options.queueTimeoutMs !== undefined
          ? { queueTimeoutMs: this.options.queueTimeoutMs }
          : {}),
        onStray: (name, stream, text) => this.emit({ type: 'stray', name, stream, text }),
      })
      try {
        // On a reload, one worker of the new version must start before it replaces the old.
        await runner.warmUp(entry.runner || this.verify ? 1 : 0)
      } catch (err) {
        await runner.close()
        throw err
      }
      const old = entry.runner
      Object.assign(entry, { def, dir: def.dir, runner, fingerprint })
      delete entry.error
      this.entries.set(def.name, entry)
      this.emit({
        type: previous ? 'reloaded' : 'ready',
        name: def.name,
        runtime: runner.runtime.name,
      })
      // Calls in flight finish on the old code; new calls already go to the new runner.
      if (old) void old.close()
    } catch (err) {
      this.fail(entry, def, toFnError(err))
    }
  }

  private fail(entry: Entry, def: FunctionDefinition, error: FnError): void {
    // With a last good version serving, keep it and show the error beside it.
    if (!entry.runner) entry.def = def
    entry.error = error
    this.entries.set(entry.def?.name ?? def.name, entry)
    this.emit({ type: 'unavailable', name: def.name, error })
  }

  private emit(event: ExecutorEvent): void {
    this.options.onEvent?.(event)
  }

  /**
   * The runtimes registered (for `fn list` and /healthz). Those a function uses are resolved
   * (once: adapters remember it); the others are listed with `used: false` and never probed, so
   * asking costs no process start.
   */
  async runtimes(): Promise<
    Array<{ name: string; used: boolean; info?: RuntimeInfo; error?: string }>
  > {
    const used = new Set<string>()
    for (const e of this.entries.values()) if (e.def) used.add(e.def.runtime)
    return Promise.all(
      [...this.adapters.values()].map(async (a) => {
        if (!used.has(a.name)) return { name: a.name, used: false }
        try {
          return { name: a.name, used: true, info: await a.resolve() }
        } catch (err) {
          return { name: a.name, used: true, error: (err as Error).message }
        }
      }),
    )
  }
}

/** `createExecutor({ dir: 'functions', runtimes: [node(), python()] })`; call `start()` next. */
export function createExecutor(options: ExecutorOptions): Executor {
  return new Executor(options)
}

function toFnError(err: unknown): FnError {
  if (isFnError(err)) return err
  return new FnError('BUILD_FAILED', `[fn] ${(err as Error)?.message ?? String(err)}`, {
    cause: err,
  })
}

function asObject(value: unknown): Record<string, unknown> {
  return value && typeof value === 'object' && !Array.isArray(value)
    ? (value as Record<string, unknown>)
    : {}
}

const ms = (value: number) => Math.round(value * 1000) / 1000
