/**
 * The warm workers of one function: up to `max` processes, each running up to `concurrency`
 * calls at once; `min` kept warm, idle ones above it retired, workers recycled after
 * `maxRequests`, dead ones replaced. A call goes to the least-loaded live worker with a free
 * slot; when there is none, another worker starts (up to `max`). Admission (how many calls at
 * once, how many wait, for how long) is the runner's gate, not the pool's: the pool is only
 * asked to run what fits. `close()` drains in-flight calls and leaves no process.
 */
import { FnError, type FnRequest } from '@fn/protocol'
import { failure, type Outcome } from './outcome'
import type { InvokeOptions, Worker } from './worker'

export interface PoolOptions {
  /** Workers kept warm even when idle. Default 0. */
  min?: number
  /** Workers at most. Default 1. */
  max?: number
  /** Calls one worker runs at once (fn.yaml `pool.concurrency`). Default 1. */
  concurrency?: number
  /** An idle worker above `min` exits after this long. Default 60 s; 0 = never. */
  idleTimeoutMs?: number
  /** A worker is replaced after serving this many invocations. Default 0 = never. */
  maxRequests?: number
  label?: string
}

export interface PoolStats {
  /** Processes alive (warm workers, or oneshot processes running). */
  alive: number
  /** Of those, the ones running at least one call. */
  busy: number
  idle: number
  /** Calls waiting at the function's gate. */
  queued: number
  /** Calls running. */
  running: number
  /** Processes started since the pool was made. */
  started: number
}

/** A worker, or one being started, with the calls given to it. */
interface Slot {
  worker?: Worker
  starting?: Promise<Worker>
  load: number
  /** Recycled (maxRequests) or retiring: takes no new calls. */
  draining: boolean
  idleTimer?: NodeJS.Timeout
}

export class WorkerPool {
  private readonly slots = new Set<Slot>()
  /** Calls that fit the gate but found no slot (a worker accepted fewer calls than asked). */
  private readonly waiting: Array<() => void> = []
  private readonly inFlight = new Set<Promise<Outcome>>()
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
      concurrency: Math.max(1, options.concurrency ?? 1),
      idleTimeoutMs: options.idleTimeoutMs ?? 60_000,
      maxRequests: options.maxRequests ?? 0,
      label: options.label ?? 'function',
    }
  }

  /** Calls the pool can run at once. */
  get capacity(): number {
    return this.options.max * this.options.concurrency
  }

  /** Starts workers until `max(min, count)` are alive; the first failure rejects. */
  async warmUp(count = 0): Promise<void> {
    const missing = Math.min(this.options.max, Math.max(this.options.min, count)) - this.slots.size
    const slots = Array.from({ length: Math.max(0, missing) }, () => this.spawn())
    await Promise.all(slots.map((s) => s.starting))
  }

  /** Runs one invocation on a warm worker (or a new one). Never rejects. */
  run(request: FnRequest, options: InvokeOptions): Promise<Outcome> {
    const run = this.runOnSlot(request, options)
    this.inFlight.add(run)
    void run.finally(() => this.inFlight.delete(run))
    return run
  }

  private async runOnSlot(request: FnRequest, options: InvokeOptions): Promise<Outcome> {
    let slot = this.pick()
    while (!slot && !this.closing) {
      await new Promise<void>((resolve) => this.waiting.push(resolve))
      slot = this.pick()
    }
    if (!slot || this.closing) {
      const error = new FnError('CANCELLED', `[fn] ${this.options.label} is shutting down`)
      return failure(error, [], false, 0)
    }
    slot.load++
    if (slot.idleTimer) clearTimeout(slot.idleTimer)
    let worker = slot.worker
    let cold = false
    try {
      if (!worker) {
        cold = true
        const t = performance.now()
        try {
          worker = await slot.starting!
        } catch (err) {
          const error = err instanceof FnError ? err : new FnError('CRASHED', String(err))
          return failure(error, [], true, performance.now() - t)
        }
      }
      const outcome = await worker.invoke(request, options)
      return cold ? { ...outcome, cold: true } : outcome
    } finally {
      slot.load--
      this.afterCall(slot)
    }
  }

  stats(): PoolStats {
    let busy = 0
    let alive = 0
    let running = 0
    for (const s of this.slots) {
      if (!s.worker) continue
      alive++
      running += s.load
      if (s.worker.busy) busy++
    }
    return { alive, busy, idle: alive - busy, queued: 0, running, started: this.started }
  }

  /** Stops taking calls, lets the ones in flight finish, then shuts every worker down. */
  async close(): Promise<void> {
    this.closing = true
    for (const wake of this.waiting.splice(0)) wake()
    await Promise.allSettled([...this.inFlight])
    const slots = [...this.slots]
    this.slots.clear()
    await Promise.all(
      slots.map(async (s) => {
        if (s.idleTimer) clearTimeout(s.idleTimer)
        const worker = s.worker ?? (await s.starting?.catch(() => undefined))
        await worker?.shutdown()
      }),
    )
  }

  /** The least-loaded live worker with room; else a new one; else one starting with room. */
  private pick(): Slot | undefined {
    if (this.closing) return undefined
    let best: Slot | undefined
    let startingWithRoom: Slot | undefined
    for (const s of this.slots) {
      if (s.draining) continue
      const w = s.worker
      if (w) {
        // A call the worker was asked to cancel keeps its place until the worker lets go of it.
        const load = Math.max(s.load, w.load)
        if (w.dead || load >= w.concurrency) continue
        if (!best || load < Math.max(best.load, best.worker!.load)) best = s
      } else if (!startingWithRoom && s.load < this.options.concurrency) startingWithRoom = s
    }
    if (best && best.load === 0 && best.worker!.load === 0) return best
    if (this.slots.size < this.options.max) return this.spawn()
    return best ?? startingWithRoom
  }

  private spawn(): Slot {
    const slot: Slot = { load: 0, draining: false }
    slot.starting = this.startWorker().then(
      (worker) => {
        this.started++
        slot.worker = worker
        delete slot.starting
        worker.onDeath(() => this.remove(slot))
        worker.onRelease(() => this.wake())
        if (!this.closing) this.afterCall(slot)
        return worker
      },
      (err) => {
        this.remove(slot)
        throw err
      },
    )
    // A failed start is reported to the calls waiting on it; nobody else awaits it.
    slot.starting.catch(() => {})
    this.slots.add(slot)
    return slot
  }

  private remove(slot: Slot): void {
    if (!this.slots.delete(slot)) return
    if (slot.idleTimer) clearTimeout(slot.idleTimer)
    this.wake()
    this.refill()
  }

  /** A call ended (or a worker became ready): recycle, retire or park the worker; wake a waiter. */
  private afterCall(slot: Slot): void {
    const worker = slot.worker
    if (!worker || worker.dead) {
      this.wake()
      return
    }
    const { maxRequests, idleTimeoutMs, min } = this.options
    if (!slot.draining && maxRequests > 0 && worker.requests >= maxRequests) slot.draining = true
    if (slot.draining) {
      if (slot.load === 0) {
        this.slots.delete(slot)
        void worker.shutdown()
        this.refill()
      }
    } else if (slot.load === 0 && idleTimeoutMs > 0) {
      slot.idleTimer = setTimeout(() => {
        if (slot.load > 0 || this.slots.size <= min) return
        slot.draining = true
        this.afterCall(slot)
      }, idleTimeoutMs)
      slot.idleTimer.unref()
    }
    this.wake()
  }

  private wake(): void {
    this.waiting.shift()?.()
  }

  /** Keeps `min` workers alive after deaths and recycling. */
  private refill(): void {
    if (this.closing) return
    while (this.slots.size < this.options.min) this.spawn()
  }
}
