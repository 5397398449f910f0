import { FnError } from '@fn/protocol'
import { DEFAULTS } from './defaults'

export interface LimiterOptions {
  /** Callers allowed in at once. */
  max: number
  /** Callers allowed to wait; one more is BUSY at once. Default: 10 × max. */
  maxQueue?: number
  /** How long a caller may wait for a slot before it is BUSY. Default `DEFAULTS.queueTimeoutMs` (30 s). */
  waitTimeoutMs?: number
  /** Names the limit in BUSY messages, e.g. 'function "hello"'. */
  label?: string
}

interface Waiter {
  grant: (release: () => void) => void
  fail: (error: FnError) => void
}

/** A semaphore with a bounded queue and a wait timeout: overflow is BUSY, never a pile-up. */
export class Limiter {
  private active = 0
  private readonly waiters: Waiter[] = []
  readonly max: number
  readonly maxQueue: number
  readonly waitTimeoutMs: number
  private readonly label: string

  constructor(options: LimiterOptions) {
    this.max = Math.max(1, options.max)
    this.maxQueue = options.maxQueue ?? DEFAULTS.maxQueue
    this.waitTimeoutMs = options.waitTimeoutMs ?? DEFAULTS.queueTimeoutMs
    this.label = options.label ?? 'the executor'
  }

  get running(): number {
    return this.active
  }

  get queued(): number {
    return this.waiters.length
  }

  /** Resolves with a release function once a slot is free. */
  acquire(signal?: AbortSignal): Promise<() => void> {
    if (signal?.aborted) return Promise.reject(cancelled())
    if (this.active < this.max) {
      this.active++
      return Promise.resolve(this.releaser())
    }
    if (this.waiters.length >= this.maxQueue) {
      return Promise.reject(
        new FnError(
          'BUSY',
          `[fn] ${this.label} is busy: ${this.active} running and ${this.waiters.length} waiting (the queue limit); retry later or raise concurrency`,
          { details: { running: this.active, queued: this.waiters.length } },
        ),
      )
    }
    return new Promise((resolve, reject) => {
      const waiter: Waiter = {
        grant: (release) => {
          done()
          resolve(release)
        },
        fail: (error) => {
          done()
          reject(error)
        },
      }
      const timer = setTimeout(
        () =>
          waiter.fail(
            new FnError(
              'BUSY',
              `[fn] ${this.label} is busy: no slot became free within ${this.waitTimeoutMs} ms; retry later or raise concurrency`,
              { details: { waitedMs: this.waitTimeoutMs } },
            ),
          ),
        this.waitTimeoutMs,
      )
      const onAbort = () => waiter.fail(cancelled())
      signal?.addEventListener('abort', onAbort, { once: true })
      const done = () => {
        clearTimeout(timer)
        signal?.removeEventListener('abort', onAbort)
        const i = this.waiters.indexOf(waiter)
        if (i !== -1) this.waiters.splice(i, 1)
      }
      this.waiters.push(waiter)
    })
  }

  private releaser(): () => void {
    let released = false
    return () => {
      if (released) return
      released = true
      const next = this.waiters[0]
      if (next) next.grant(this.releaser())
      else this.active--
    }
  }
}

function cancelled(): FnError {
  return new FnError('CANCELLED', '[fn] the invocation was cancelled while it waited for a slot')
}
