/**
 * A runner serves one function with one adapter: it prepares (builds) once, then runs each call
 * the way the function asks for: stdio oneshot, handler oneshot, or a warm worker pool.
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
import { Worker } from './worker'

export interface RunnerOptions {
  /** The adapter's build folder (prepare's cacheDir). */
  cacheDir: string
  /** Callers allowed to wait for this function. Default 10 × concurrency. */
  maxQueue?: number
  /** How long a caller may wait. Default 30 s. */
  queueTimeoutMs?: number
  /** Workers must be ready within this. Default 10 s. */
  startTimeoutMs?: number
  killGraceMs?: number
  logs?: Partial<LogLimits>
  /** stdout cap of stdio functions. Default 32 MiB. */
  maxOutputBytes?: number
  onStray?: (fn: string, stream: 'stdout' | 'stderr', text: string) => void
}

export interface RunnerInvokeOptions {
  timeoutMs?: number
  signal?: AbortSignal
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
  const concurrency = fn.concurrency ?? fn.pool.max
  const common = {
    label,
    ...(options.killGraceMs !== undefined ? { killGraceMs: options.killGraceMs } : {}),
    ...(options.logs ? { logs: options.logs } : {}),
    ...(fn.memoryMb ? { memoryLimitMb: fn.memoryMb } : {}),
  }

  if (fn.protocol === 'handler' && fn.mode === 'warm') {
    const spec = launch('worker')
    const pool = new WorkerPool(
      () =>
        Worker.start(spec, {
          ...common,
          ...(options.startTimeoutMs ? { startTimeoutMs: options.startTimeoutMs } : {}),
          ...(onStray ? { onStray } : {}),
        }),
      {
        label,
        min: fn.pool.min,
        max: Math.max(concurrency, fn.pool.min, 1),
        idleTimeoutMs: fn.pool.idleTimeoutMs,
        maxRequests: fn.pool.maxRequests,
        ...(options.maxQueue !== undefined ? { maxQueue: options.maxQueue } : {}),
        ...(options.queueTimeoutMs !== undefined ? { queueTimeoutMs: options.queueTimeoutMs } : {}),
      },
    )
    return {
      fn,
      runtime,
      invoke: (request, o = {}) =>
        pool.invoke(request, {
          timeoutMs: o.timeoutMs ?? fn.timeoutMs,
          ...(o.signal ? { signal: o.signal } : {}),
        }),
      stats: () => pool.stats(),
      warmUp: (count) => pool.warmUp(count),
      close: () => pool.close(),
    }
  }

  const kind: ProcessKind = fn.protocol === 'stdio' ? 'stdio' : 'worker'
  const spec = launch(kind)
  const limiter = new Limiter({
    max: Math.max(concurrency, 1),
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
        release = await limiter.acquire(o.signal)
      } catch (err) {
        return { ...failure(err as FnError, [], false, 0), queueMs: performance.now() - queued }
      }
      const queueMs = performance.now() - queued
      started++
      const once = {
        ...common,
        timeoutMs: o.timeoutMs ?? fn.timeoutMs,
        ...(o.signal ? { signal: o.signal } : {}),
        ...(options.maxOutputBytes ? { maxOutputBytes: options.maxOutputBytes } : {}),
      }
      const run = (
        kind === 'stdio' ? runStdio(spec, request, once) : runHandlerOnce(spec, request, once)
      ).finally(release)
      inFlight.add(run)
      void run.finally(() => inFlight.delete(run))
      return { ...(await run), queueMs }
    },
    stats: () => ({
      alive: inFlight.size,
      busy: inFlight.size,
      idle: 0,
      queued: limiter.queued,
      started,
    }),
    warmUp: async () => {},
    async close() {
      closing = true
      await Promise.allSettled([...inFlight])
    },
  }
}
