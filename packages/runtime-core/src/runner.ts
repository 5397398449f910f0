/**
 * A runner serves one function with one adapter: it prepares (builds) once, then admits each call
 * through one gate (the function's capacity and queue, the same for every mode) and runs it the
 * way the function asks for: stdio oneshot, handler oneshot, or on a warm worker pool.
 */
import { join } from 'node:path'
import type { FunctionDefinition } from '@fn/manifest'
import { FnError, type FnRequest } from '@fn/protocol'
import type { ProcessKind, RuntimeAdapter, RuntimeInfo } from './adapter'
import { Limiter } from './limiter'
import type { LogLimits } from './logs'
import { failure, type Outcome } from './outcome'
import { type PoolStats, WorkerPool } from './pool'
import type { LaunchSpec } from './process'
import { runHandlerOnce, runStdio } from './run'
import { runUserBuild } from './user-build'
import { type InvokeOptions, Worker } from './worker'

export interface RunnerOptions {
  /** The adapter's build folder (prepare's cacheDir). */
  cacheDir: string
  /** Callers allowed to wait for this function. Default `DEFAULTS.maxQueue` (4096). */
  maxQueue?: number
  /** How long a caller may wait. Default `DEFAULTS.queueTimeoutMs` (30 s). */
  queueTimeoutMs?: number
  /** Workers must be ready within this. Default `DEFAULTS.startTimeoutMs` (10 s). */
  startTimeoutMs?: number
  killGraceMs?: number
  logs?: Partial<LogLimits>
  /** stdout cap of stdio functions. Default `DEFAULTS.maxOutputBytes` (32 MiB). */
  maxOutputBytes?: number
  onStray?: (fn: string, stream: 'stdout' | 'stderr', text: string) => void
}

export interface RunnerInvokeOptions {
  timeoutMs?: number
  signal?: AbortSignal
  /** A handler's output comes back as the `RawJson` text the worker wrote. Default false. */
  rawOutput?: boolean
}

export interface RunnerOutcome extends Outcome {
  queueMs: number
}

export interface Runner {
  readonly fn: FunctionDefinition
  readonly runtime: RuntimeInfo
  invoke(request: FnRequest, options?: RunnerInvokeOptions): Promise<RunnerOutcome>
  /** Pool state (warm handlers) or in-flight counts (oneshot). */
  stats(): PoolStats
  /**
   * Starts the pool's `min` workers, or `count` if more: a load error (syntax error, missing
   * handler) rejects here, before any call. Does nothing for oneshot functions.
   */
  warmUp(count?: number): Promise<void>
  /** Drains in-flight calls and stops every process. */
  close(): Promise<void>
}

/**
 * Resolves the runtime, runs the fn.yaml `build` (when its inputs changed) and the adapter's
 * `prepare` (BUILD_FAILED on error), and returns a ready runner.
 */
export async function createRunner(
  adapter: RuntimeAdapter,
  fn: FunctionDefinition,
  options: RunnerOptions,
): Promise<Runner> {
  const runtime = await adapter.resolve()
  if (fn.build) await runUserBuild(fn, join(options.cacheDir, 'builds'))
  const prepared = adapter.prepare
    ? await adapter.prepare(fn, { runtime, cacheDir: options.cacheDir })
    : undefined
  const launch = (kind: ProcessKind): LaunchSpec => adapter.launch(fn, { runtime, prepared, kind })
  const label = `function "${fn.name}"`
  const onStray = options.onStray
    ? (stream: 'stdout' | 'stderr', text: string) => options.onStray?.(fn.name, stream, text)
    : undefined
  const common = {
    label,
    ...(options.killGraceMs !== undefined ? { killGraceMs: options.killGraceMs } : {}),
    ...(options.logs ? { logs: options.logs } : {}),
    ...(fn.memoryMb ? { memoryLimitMb: fn.memoryMb } : {}),
  }
  const warm = fn.protocol === 'handler' && fn.mode === 'warm'
  // Definitions may be written by hand (createExecutor({ functions })): fill what they leave out.
  const perWorker = warm ? Math.max(1, fn.pool.concurrency ?? 1) : 1
  const processes = Math.max(1, fn.pool.max ?? 1, fn.pool.min ?? 0)
  const kind: ProcessKind = fn.protocol === 'stdio' ? 'stdio' : 'worker'
  const spec = launch(kind)
  const startOptions = {
    ...common,
    ...(options.startTimeoutMs ? { startTimeoutMs: options.startTimeoutMs } : {}),
    ...(onStray ? { onStray } : {}),
  }

  // How the admitted call runs: on the pool's warm workers, or in a process of its own.
  let pool: WorkerPool | undefined
  let run: (request: FnRequest, options: InvokeOptions) => Promise<Outcome>
  if (warm) {
    const workers = new WorkerPool(
      () => Worker.start(spec, { ...startOptions, concurrency: perWorker }),
      {
        label,
        min: fn.pool.min,
        max: processes,
        concurrency: perWorker,
        idleTimeoutMs: fn.pool.idleTimeoutMs,
        maxRequests: fn.pool.maxRequests,
      },
    )
    pool = workers
    run = (request, o) => workers.run(request, o)
  } else {
    const once = {
      ...startOptions,
      ...(options.maxOutputBytes ? { maxOutputBytes: options.maxOutputBytes } : {}),
    }
    run = (request, o) => {
      const all = { ...once, ...o }
      return kind === 'stdio' ? runStdio(spec, request, all) : runHandlerOnce(spec, request, all)
    }
  }

  // One gate for every mode: calls in flight up to the function's capacity, a bounded queue.
  const capacity = processes * perWorker
  const gate = new Limiter({
    max: Math.min(fn.concurrency ?? capacity, capacity),
    ...(options.maxQueue !== undefined ? { maxQueue: options.maxQueue } : {}),
    ...(options.queueTimeoutMs !== undefined ? { waitTimeoutMs: options.queueTimeoutMs } : {}),
    label,
  })
  const inFlight = new Set<Promise<unknown>>()
  let started = 0
  let closing = false
  return {
    fn,
    runtime,
    async invoke(request, o = {}) {
      const queued = performance.now()
      if (closing) {
        return {
          ...failure(new FnError('CANCELLED', `[fn] ${label} is shutting down`), [], false, 0),
          queueMs: 0,
        }
      }
      let release: () => void
      try {
        release = await gate.acquire(o.signal)
      } catch (err) {
        return { ...failure(err as FnError, [], false, 0), queueMs: performance.now() - queued }
      }
      const queueMs = performance.now() - queued
      started++
      const call = run(request, {
        timeoutMs: o.timeoutMs ?? fn.timeoutMs,
        ...(o.signal ? { signal: o.signal } : {}),
        ...(o.rawOutput ? { rawOutput: true } : {}),
      }).finally(release)
      inFlight.add(call)
      void call.finally(() => inFlight.delete(call))
      return { ...(await call), queueMs }
    },
    stats: () => {
      const queued = gate.queued
      if (pool) return { ...pool.stats(), queued }
      const running = gate.running
      return { alive: running, busy: running, idle: 0, queued, running, started }
    },
    warmUp: async (count) => pool?.warmUp(count),
    async close() {
      closing = true
      await Promise.allSettled([...inFlight])
      await pool?.close()
    },
  }
}
