/**
 * One warm worker: a runtime process with a bootstrap shim that loaded the function once and
 * serves invocations one at a time over frames on fd 3 (see @fn/protocol). stdout and stderr are
 * captured and attributed to the invocation in progress.
 */
import type { ChildProcess } from 'node:child_process'
import type { Socket } from 'node:net'
import {
  encodeFrame,
  endMarker,
  FnError,
  type FnRequest,
  type Frame,
  FrameDecoder,
  type LogEntry,
} from '@fn/protocol'
import { StreamCapture } from './capture'
import { DEFAULT_LOG_LIMITS, finishLogs, type LogLimits } from './logs'
import { memoryMessage, watchMemory } from './memory'
import { exitError, failure, type Outcome } from './outcome'
import {
  DEFAULT_KILL_GRACE_MS,
  exitOf,
  killGroup,
  type LaunchSpec,
  spawnGroup,
  terminateGroup,
} from './process'
import { TailBuffer } from './tail'

export interface WorkerOptions {
  /** Names the worker in messages, e.g. 'function "hello"'. */
  label?: string
  /** The worker must say `ready` within this time. Default 10 s. */
  startTimeoutMs?: number
  killGraceMs?: number
  /** Largest frame accepted from the worker (a result is one frame). Default 64 MiB. */
  maxFrameBytes?: number
  logs?: Partial<LogLimits>
  /** Kill the worker when its resident memory exceeds this (MiB): MEMORY_LIMIT. */
  memoryLimitMb?: number
  /** Output written outside any invocation (module load, stray background writes). */
  onStray?: (stream: 'stdout' | 'stderr', text: string) => void
}

export interface InvokeOptions {
  timeoutMs: number
  signal?: AbortSignal
}

interface Pending {
  id: string
  logs: LogEntry[]
  settle: (outcome: Outcome) => void
  started: number
}

export class Worker {
  readonly label: string
  readonly pid: number | undefined
  /** Invocations served (finished or not). */
  requests = 0
  lastUsed = Date.now()
  dead = false
  private pending: Pending | undefined
  private seq = 0
  private readonly socket: Socket
  private readonly stdout: StreamCapture
  private readonly stderr: StreamCapture
  private readonly tail = new TailBuffer(4096)
  private readonly grace: number
  private readonly limits: LogLimits
  private readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>
  private readyWaiter: ((error?: FnError) => void) | undefined
  private readonly deathListeners: Array<() => void> = []

  private constructor(child: ChildProcess, options: WorkerOptions) {
    this.label = options.label ?? 'worker'
    this.pid = child.pid
    this.grace = options.killGraceMs ?? DEFAULT_KILL_GRACE_MS
    this.limits = { ...DEFAULT_LOG_LIMITS, ...options.logs }
    const stray = options.onStray ?? (() => {})
    this.stdout = new StreamCapture('info', this.limits, (t) => stray('stdout', t))
    this.stderr = new StreamCapture('error', this.limits, (t) => stray('stderr', t))
    child.stdout?.on('data', (c: Buffer) => this.stdout.push(c))
    child.stderr?.on('data', (c: Buffer) => {
      this.tail.push(c)
      this.stderr.push(c)
    })
    child.stdout?.on('close', () => this.stdout.close())
    child.stderr?.on('close', () => this.stderr.close())

    this.socket = child.stdio[3] as Socket
    const decoder = new FrameDecoder({ maxLineBytes: options.maxFrameBytes ?? 64 * 1024 * 1024 })
    this.socket.on('data', (chunk: Buffer) => {
      let frames: Frame[]
      try {
        frames = decoder.push(chunk)
      } catch (err) {
        this.fail(err instanceof FnError ? err : new FnError('PROTOCOL_ERROR', String(err)))
        return
      }
      for (const frame of frames) this.onFrame(frame)
    })
    this.socket.on('error', () => {})
    const limit = options.memoryLimitMb
    const stopWatching = watchMemory(this.pid, limit, (used) =>
      this.fail(new FnError('MEMORY_LIMIT', memoryMessage(this.label, used, limit ?? 0))),
    )
    this.exited = exitOf(child).then((exit) => {
      stopWatching()
      this.onExit(exit)
      return exit
    })
  }

  /** Starts a worker and resolves once it said `ready`; rejects with a typed FnError. */
  static async start(spec: LaunchSpec, options: WorkerOptions = {}): Promise<Worker> {
    const child = spawnGroup(spec, ['ignore', 'pipe', 'pipe', 'pipe'])
    const worker = new Worker(child, options)
    const timeoutMs = options.startTimeoutMs ?? 10_000
    const error = await new Promise<FnError | undefined>((resolve) => {
      const timer = setTimeout(
        () =>
          resolve(
            new FnError(
              'TIMEOUT',
              `[fn] ${worker.label} did not say ready within ${timeoutMs} ms; it was killed${worker.stderrTail()}`,
            ),
          ),
        timeoutMs,
      )
      worker.readyWaiter = (err) => {
        clearTimeout(timer)
        worker.readyWaiter = undefined
        resolve(err)
      }
    })
    if (error) {
      worker.kill()
      await worker.exited
      throw error
    }
    return worker
  }

  get busy(): boolean {
    return this.pending !== undefined
  }

  /** Runs one invocation. Never rejects: every failure is a typed outcome. */
  invoke(request: FnRequest, options: InvokeOptions): Promise<Outcome> {
    if (this.dead || this.pending) {
      const why = this.dead ? 'is no longer running' : 'is busy'
      return Promise.resolve(
        failure(new FnError('CRASHED', `[fn] ${this.label} ${why}`), [], false, 0),
      )
    }
    const id = String(++this.seq)
    let frame: string
    try {
      frame = encodeFrame({
        v: 1,
        type: 'invoke',
        id,
        request,
        deadline: Date.now() + options.timeoutMs,
      })
    } catch (err) {
      // Serialising the input once, here, is also its validation.
      const error = new FnError(
        'INVALID_INPUT',
        `[fn] the input for ${this.label} cannot be sent as JSON: ${(err as Error).message}`,
      )
      return Promise.resolve(failure(error, [], false, 0))
    }
    this.requests++
    this.lastUsed = Date.now()
    const marker = Buffer.from(endMarker(id))
    this.stdout.begin(marker)
    this.stderr.begin(marker)
    const started = performance.now()
    return new Promise<Outcome>((resolve) => {
      const timer = setTimeout(() => {
        this.fail(
          new FnError(
            'TIMEOUT',
            `[fn] ${this.label} timed out after ${options.timeoutMs} ms; its process group was killed`,
            { details: { timeoutMs: options.timeoutMs } },
          ),
        )
      }, options.timeoutMs)
      const onAbort = () =>
        this.fail(new FnError('CANCELLED', `[fn] ${this.label}: the invocation was cancelled`))
      options.signal?.addEventListener('abort', onAbort, { once: true })
      this.pending = {
        id,
        logs: [],
        started,
        settle: (outcome) => {
          clearTimeout(timer)
          options.signal?.removeEventListener('abort', onAbort)
          this.pending = undefined
          this.lastUsed = Date.now()
          resolve(outcome)
        },
      }
      if (options.signal?.aborted) return onAbort()
      this.socket.write(frame)
    })
  }

  /** Asks the worker to exit; kills its group if it does not within the grace. */
  async shutdown(): Promise<void> {
    if (!this.dead) {
      this.socket.write(encodeFrame({ v: 1, type: 'shutdown' }))
      this.socket.end()
      const timer = setTimeout(() => this.kill(), this.grace)
      await this.exited
      clearTimeout(timer)
    }
    await this.exited
  }

  /** Kills the worker's whole process group (SIGTERM, SIGKILL after the grace). */
  kill(): void {
    void terminateGroup(this.pid, this.grace, this.exited)
  }

  onDeath(listener: () => void): void {
    this.deathListeners.push(listener)
  }

  private stderrTail(): string {
    const tail = this.tail.toString().trim()
    return tail ? `; stderr:\n${tail}` : ''
  }

  private onFrame(frame: Frame): void {
    switch (frame.type) {
      case 'ready':
        this.readyWaiter?.()
        return
      case 'log': {
        const p = this.pending
        if (p && frame.id === p.id) {
          const entry: LogEntry = {
            level: frame.level,
            message: frame.message,
            timestamp: frame.timestamp,
          }
          if (frame.data !== undefined) entry.data = frame.data
          p.logs.push(entry)
        }
        return
      }
      case 'result':
      case 'error': {
        if (frame.type === 'error' && frame.id === undefined) {
          const error = new FnError(frame.error.code, frame.error.message, {
            details: frame.error.details,
          })
          if (this.readyWaiter) this.readyWaiter(error)
          else this.fail(error)
          return
        }
        const p = this.pending
        if (!p || frame.id !== p.id) {
          this.fail(
            new FnError(
              'PROTOCOL_ERROR',
              `[fn] ${this.label} answered invocation ${frame.id}, which is not in progress`,
            ),
          )
          return
        }
        void this.complete(
          p,
          frame.type === 'result'
            ? { ok: true, output: frame.output }
            : { ok: false, error: frame.error },
        )
        return
      }
      default:
        this.fail(
          new FnError(
            'PROTOCOL_ERROR',
            `[fn] ${this.label} sent a "${frame.type}" frame, which only the host sends`,
          ),
        )
    }
  }

  private complete(p: Pending, result: Pick<Outcome, 'ok' | 'output' | 'error'>): void {
    const finish = () => {
      if (this.pending !== p) return
      const logs = finishLogs(
        [...p.logs, ...this.stdout.take(), ...this.stderr.take()],
        this.limits,
      )
      p.settle({ ...result, logs, cold: false, runMs: performance.now() - p.started })
    }
    // The end markers were written before the result frame: usually they are here already.
    if (this.stdout.done && this.stderr.done) {
      finish()
      return
    }
    void Promise.all([this.stdout.settled(1000), this.stderr.settled(1000)]).then(finish)
  }

  /** Fails the invocation in progress (if any) and kills the worker. */
  private fail(error: FnError): void {
    if (this.readyWaiter) {
      this.readyWaiter(error)
      return
    }
    const p = this.pending
    this.dead = true
    this.kill()
    if (p) {
      const logs = finishLogs(
        [...p.logs, ...this.stdout.take(), ...this.stderr.take()],
        this.limits,
      )
      p.settle(failure(error, logs, false, performance.now() - p.started))
    }
  }

  private onExit(exit: {
    code: number | null
    signal: NodeJS.Signals | null
    error?: NodeJS.ErrnoException
  }): void {
    const wasDead = this.dead
    this.dead = true
    killGroup(this.pid, 'SIGKILL')
    if (exit.error) {
      this.readyWaiter?.(
        new FnError(
          'RUNTIME_NOT_AVAILABLE',
          `[fn] could not start ${this.label}: ${exit.error.message}`,
        ),
      )
    } else if (this.readyWaiter || (this.pending && !wasDead)) {
      // Report once the pipes have delivered the last words (they close with the process group).
      const what = this.readyWaiter ? `${this.label} (before it was ready)` : this.label
      void Promise.all([this.stdout.settled(250), this.stderr.settled(250)]).then(() => {
        const error = exitError(what, exit, this.tail.toString())
        if (this.readyWaiter) this.readyWaiter(error)
        else this.fail(error)
      })
    }
    for (const listener of this.deathListeners) listener()
  }
}
