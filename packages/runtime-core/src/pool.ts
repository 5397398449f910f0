/**
 * A pool of warm workers for one function: at most `max` in flight (one invocation per worker),
 * a bounded queue (BUSY beyond it), `min` kept warm, idle ones retired, workers recycled after
 * `maxRequests`, dead ones replaced. `close()` drains in-flight calls and leaves no process.
 */
import { FnError, type FnRequest } from '@fn/protocol'
import { Limiter } from './limiter'
import { failure, type Outcome } from './outcome'
import type { InvokeOptions, Worker } from './worker'

export interface PoolOptions {
  /** Workers kept warm even when idle. Default 0. */
  min?: number
  /** Workers (and so invocations in flight) at most. Default 1. */
  max?: number
  /** An idle worker above `min` exits after this long. Default 60 s; 0 = never. */
  idleTimeoutMs?: number
  /** A worker is replaced after serving this many invocations. Default 0 = never. */
  maxRequests?: number
  /** Callers allowed to wait for a worker. Default 10 × max. */
  maxQueue?: number
  /** How long a caller may wait. Default 30 s. */
  queueTimeoutMs?: number
  label?: string
}

export interface PoolStats {
  alive: number
  busy: number
  idle: number
  queued: number
  started: number
}

export interface PoolOutcome extends Outcome {
  queueMs: number
}

export class WorkerPool {
  private readonly idle: Worker[] = []
  private readonly all = new Set<Worker>()
  private readonly limiter: Limiter
  private readonly idleTimers = new Map<Worker, NodeJS.Timeout>()
  private readonly inFlight = new Set<Promise<unknown>>()
  private closing = false
  private started = 0
  readonly options: Required<Omit<PoolOptions, 'label'>> & { label: string }

  constructor(
    private readonly startWorker: () => Promise<Worker>,
    options: PoolOptions = {},
  ) {
    const max = Math.max(1, options.max ?? 1)
    this.options = {
      min: Math.min(options.min ?? 0, max),
      max,
      idleTimeoutMs: options.idleTimeoutMs ?? 60_000,
      maxRequests: options.maxRequests ?? 0,
      maxQueue: options.maxQueue ?? max * 10,
      queueTimeoutMs: options.queueTimeoutMs ?? 30_000,
      label: options.label ?? 'function',
    }
    this.limiter = new Limiter({
      max,
      maxQueue: this.options.maxQueue,
      waitTimeoutMs: this.options.queueTimeoutMs,
      label: this.options.label,
    })
  }

  /** Starts workers until `max(min, count)` are alive; the first failure rejects. */
  async warmUp(count = 0): Promise<void> {
    const missing = Math.min(this.options.max, Math.max(this.options.min, count)) - this.all.size
    const workers = await Promise.all(
      Array.from({ length: Math.max(0, missing) }, () => this.spawn()),
    )
    for (const w of workers) this.park(w)
  }

  /** Runs one invocation on a warm worker (or a new one). Never rejects. */
  async invoke(request: FnRequest, options: InvokeOptions): Promise<PoolOutcome> {
    const queued = performance.now()
    if (this.closing) {
      const error = new FnError('CANCELLED', `[fn] ${this.options.label} is shutting down`)
      return { ...failure(error, [], false, 0), queueMs: 0 }
    }
    let release: () => void
    try {
      release = await this.limiter.acquire(options.signal)
    } catch (err) {
      const queueMs = performance.now() - queued
      return { ...failure(err as FnError, [], false, 0), queueMs }
    }
    const queueMs = performance.now() - queued
    const run = this.run(request, options).finally(release)
    this.inFlight.add(run)
    void run.finally(() => this.inFlight.delete(run))
    return { ...(await run), queueMs }
  }

  private async run(request: FnRequest, options: InvokeOptions): Promise<Outcome> {
    let worker = this.takeIdle()
    let cold = false
    if (!worker) {
      cold = true
      const t = performance.now()
      try {
        worker = await this.spawn()
      } catch (err) {
        const error = err instanceof FnError ? err : new FnError('CRASHED', String(err))
        return failure(error, [], true, performance.now() - t)
      }
    }
    const outcome = await worker.invoke(request, options)
    this.giveBack(worker)
    return cold ? { ...outcome, cold: true } : outcome
  }

  stats(): PoolStats {
    const busy = [...this.all].filter((w) => w.busy).length
    return {
      alive: this.all.size,
      busy,
      idle: this.idle.length,
      queued: this.limiter.queued,
      started: this.started,
    }
  }

  /** Stops taking calls, lets the ones in flight finish, then shuts every worker down. */
  async close(): Promise<void> {
    this.closing = true
    await Promise.allSettled([...this.inFlight])
    for (const timer of this.idleTimers.values()) clearTimeout(timer)
    this.idleTimers.clear()
    this.idle.length = 0
    await Promise.all([...this.all].map((w) => w.shutdown()))
    this.all.clear()
  }

  private async spawn(): Promise<Worker> {
    const worker = await this.startWorker()
    this.started++
    this.all.add(worker)
    worker.onDeath(() => {
      this.all.delete(worker)
      this.unpark(worker)
      this.refill()
    })
    return worker
  }

  private takeIdle(): Worker | undefined {
    let worker = this.idle.pop()
    while (worker?.dead) worker = this.idle.pop()
    if (worker) this.clearIdleTimer(worker)
    return worker
  }

  private giveBack(worker: Worker): void {
    if (worker.dead) return
    const { maxRequests } = this.options
    if (this.closing || (maxRequests > 0 && worker.requests >= maxRequests)) {
      this.all.delete(worker)
      void worker.shutdown()
      this.refill()
      return
    }
    this.park(worker)
  }

  private park(worker: Worker): void {
    this.idle.push(worker)
    const { idleTimeoutMs } = this.options
    if (idleTimeoutMs > 0) {
      const timer = setTimeout(() => {
        if (this.all.size <= this.options.min || worker.busy) return
        this.unpark(worker)
        this.all.delete(worker)
        void worker.shutdown()
      }, idleTimeoutMs)
      timer.unref()
      this.idleTimers.set(worker, timer)
    }
  }

  private unpark(worker: Worker): void {
    this.clearIdleTimer(worker)
    const i = this.idle.indexOf(worker)
    if (i !== -1) this.idle.splice(i, 1)
  }

  private clearIdleTimer(worker: Worker): void {
    const timer = this.idleTimers.get(worker)
    if (timer) clearTimeout(timer)
    this.idleTimers.delete(worker)
  }

  /** Keeps `min` workers alive after deaths and recycling. */
  private refill(): void {
    if (this.closing || this.all.size >= this.options.min) return
    this.spawn().then(
      (w) => (this.closing ? void w.shutdown() : this.park(w)),
      () => {
        // A failing start shows on the next invocation; do not spin here.
      },
    )
  }
}
