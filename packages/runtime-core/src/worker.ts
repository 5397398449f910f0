/**
 * One warm worker: a runtime process with a bootstrap shim that loaded the function once and
 * serves invocations over frames on fd 3 (see @fn/protocol): one at a time, or up to
 * `concurrency` at once when the shim says it can. With one call at a time, stdout and stderr
 * are captured and attributed to the call in progress; with several, raw fd output cannot belong
 * to any one call and goes to `onStray` (the shims turn their language's logging into log
 * frames, which carry the call's id).
 */
import type { ChildProcess } from 'node:child_process'
import { readSync } from 'node:fs'
import type { Socket } from 'node:net'
import {
  encodeFrame,
  FnError,
  type FnRequest,
  type Frame,
  FrameDecoder,
  type LogEntry,
  RawJson,
} from '@fn/protocol'
import { StreamCapture } from './capture'
import { DEFAULTS } from './defaults'
import { DEFAULT_LOG_LIMITS, finishLogs, type LogLimits } from './logs'
import { memoryMessage, watchMemory } from './memory'
import { exitError, failure, type Outcome } from './outcome'
import { exitOf, killGroup, type LaunchSpec, spawnGroup, terminateGroup } from './process'
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
  /**
   * Invocations to run at once (fn.yaml `pool.concurrency`). The shim is told through
   * `FN_CONCURRENCY` and answers with what it accepts in `ready`; older shims mean 1. Default 1.
   */
  concurrency?: number
  /**
   * With `concurrency` > 1, how long a worker has to acknowledge a `cancel` before it counts as
   * wedged (a blocked event loop) and is killed with the calls it still runs. Default 1 s.
   */
  cancelGraceMs?: number
  /** Output that belongs to no invocation (module load, background writes, concurrent calls). */
  onStray?: (stream: 'stdout' | 'stderr', text: string) => void
}

export interface InvokeOptions {
  timeoutMs: number
  signal?: AbortSignal
  /** A result's output stays the JSON text the worker wrote, as a `RawJson`. Default false. */
  rawOutput?: boolean
}

interface Call {
  id: string
  logs: LogEntry[]
  started: number
  /** Answered already (timed out or cancelled); waits for the worker's acknowledgement. */
  abandoned: boolean
  /** The deadline: kills a worker with one call at a time, cancels the call otherwise. */
  timer?: NodeJS.Timeout
  rawOutput: boolean
  settle: (outcome: Outcome) => void
}

export class Worker {
  readonly label: string
  readonly pid: number | undefined
  /** Invocations this worker runs at once: what was asked for, capped by what the shim accepts. */
  concurrency = 1
  /** Invocations served (finished or not). */
  requests = 0
  dead = false
  private readonly calls = new Map<string, Call>()
  private seq = 0
  private readonly socket: Socket
  private readonly stdout: StreamCapture
  private readonly stderr: StreamCapture
  private readonly tail = new TailBuffer(4096)
  private readonly grace: number
  private readonly cancelGraceMs: number
  private readonly limits: LogLimits
  private readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>
  private readyWaiter: ((error?: FnError) => void) | undefined
  private readonly deathListeners: Array<() => void> = []
  private readonly releaseListeners: Array<() => void> = []
  /** The host ends of the worker's stdout and stderr pipes, for `drain()`. */
  private readonly pipeFds: [number | undefined, number | undefined]

  private constructor(child: ChildProcess, options: WorkerOptions) {
    this.label = options.label ?? 'worker'
    this.pid = child.pid
    this.grace = options.killGraceMs ?? DEFAULTS.killGraceMs
    this.cancelGraceMs = options.cancelGraceMs ?? DEFAULTS.cancelGraceMs
    this.limits = { ...DEFAULT_LOG_LIMITS, ...options.logs }
    const stray = options.onStray ?? (() => {})
    this.stdout = new StreamCapture('info', this.limits, (t) => stray('stdout', t))
    this.stderr = new StreamCapture('error', this.limits, (t) => stray('stderr', t))
    child.stdout?.on('data', (c: Buffer) => this.stdout.push(c))
    child.stderr?.on('data', (c: Buffer) => {
      this.tail.push(c)
      this.stderr.push(c)
    })
    this.pipeFds = [pipeFd(child.stdout), pipeFd(child.stderr)]
    child.stdout?.on('close', () => this.stdout.close())
    child.stderr?.on('close', () => this.stderr.close())

    this.socket = child.stdio[3] as Socket
    // Results keep their output as text: parsed once per call, or passed on as RawJson.
    const decoder = new FrameDecoder({
      maxLineBytes: options.maxFrameBytes ?? DEFAULTS.maxFrameBytes,
      rawOutput: true,
    })
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
    const wanted = Math.max(1, options.concurrency ?? 1)
    const env = wanted > 1 ? { ...spec.env, FN_CONCURRENCY: String(wanted) } : spec.env
    const child = spawnGroup({ ...spec, env }, ['ignore', 'pipe', 'pipe', 'pipe'])
    const worker = new Worker(child, options)
    const timeoutMs = options.startTimeoutMs ?? DEFAULTS.startTimeoutMs
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
    worker.concurrency = Math.min(wanted, worker.concurrency)
    return worker
  }

  /** Invocations in progress, counting answered ones the worker has not let go of yet. */
  get load(): number {
    return this.calls.size
  }

  get busy(): boolean {
    return this.calls.size > 0
  }

  /** Runs one invocation. Never rejects: every failure is a typed outcome. */
  invoke(request: FnRequest, options: InvokeOptions): Promise<Outcome> {
    if (this.dead || this.calls.size >= this.concurrency) {
      const why = this.dead ? 'is no longer running' : 'is busy'
      return Promise.resolve(
        failure(new FnError('CRASHED', `[fn] ${this.label} ${why}`), [], false, 0),
      )
    }
    if (options.signal?.aborted) {
      // Never sent: nothing for the worker to finish or acknowledge.
      const error = new FnError('CANCELLED', `[fn] ${this.label}: the invocation was cancelled`)
      return Promise.resolve(failure(error, [], false, 0))
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
    if (this.concurrency === 1) {
      this.stdout.begin()
      this.stderr.begin()
    }
    const { signal, timeoutMs } = options
    return new Promise<Outcome>((resolve) => {
      const deadline = setTimeout(() => {
        const error = new FnError(
          'TIMEOUT',
          `[fn] ${this.label} timed out after ${timeoutMs} ms; ${this.concurrency === 1 ? 'its process group was killed' : 'the call was cancelled'}`,
          { details: { timeoutMs } },
        )
        this.abandon(call, error)
      }, timeoutMs)
      const onAbort = () =>
        this.abandon(
          call,
          new FnError('CANCELLED', `[fn] ${this.label}: the invocation was cancelled`),
        )
      signal?.addEventListener('abort', onAbort, { once: true })
      const call: Call = {
        id,
        logs: [],
        started: performance.now(),
        abandoned: false,
        timer: deadline,
        rawOutput: options.rawOutput === true,
        settle: (outcome) => {
          // An abandoned call keeps its deadline: it still holds the worker until then.
          if (!call.abandoned) clearTimeout(deadline)
          signal?.removeEventListener('abort', onAbort)
          resolve(outcome)
        },
      }
      this.calls.set(id, call)
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

  /** Called when the worker lets go of a call that was answered already (a cancel acknowledged). */
  onRelease(listener: () => void): void {
    this.releaseListeners.push(listener)
  }

  private stderrTail(): string {
    const tail = this.tail.toString().trim()
    return tail ? `; stderr:\n${tail}` : ''
  }

  /**
   * A call timed out or was cancelled. One call at a time: at its deadline the worker is killed
   * (a handler cannot be interrupted otherwise); a caller that went away is answered at once,
   * and the call runs on until it answers (the worker stays) or its deadline kills the worker.
   * Several: the call is answered now and the worker asked to cancel it; the slot stays taken
   * until the worker acknowledges, and a worker that does not within the grace is wedged and
   * killed with the calls it still runs.
   */
  private abandon(call: Call, error: FnError): void {
    if (this.calls.get(call.id) !== call) return
    const single = this.concurrency === 1
    if (single && error.code === 'TIMEOUT') {
      this.fail(error)
      return
    }
    if (call.abandoned) return
    call.abandoned = true
    call.settle(
      failure(error, finishLogs(call.logs, this.limits), false, performance.now() - call.started),
    )
    call.logs = []
    if (single) return
    this.socket.write(encodeFrame({ v: 1, type: 'cancel', id: call.id }))
    const wedged = setTimeout(() => {
      if (this.calls.get(call.id) !== call) return
      this.fail(
        new FnError(
          'CRASHED',
          `[fn] ${this.label} stopped responding (no answer to a cancel within ${this.cancelGraceMs} ms: a blocked event loop?); it was killed with the calls it was running`,
        ),
      )
    }, this.cancelGraceMs)
    wedged.unref()
  }

  private onFrame(frame: Frame): void {
    switch (frame.type) {
      case 'ready':
        this.concurrency = frame.concurrency ?? 1
        this.readyWaiter?.()
        return
      case 'log': {
        const call = this.calls.get(frame.id)
        if (call && !call.abandoned) {
          const entry: LogEntry = {
            level: frame.level,
            message: frame.message,
            timestamp: frame.timestamp,
          }
          if (frame.data !== undefined) entry.data = frame.data
          call.logs.push(entry)
        }
        return
      }
      case 'result':
      case 'error': {
        const id = frame.id
        if (id === undefined) {
          if (frame.type !== 'error') return
          const error = new FnError(frame.error.code, frame.error.message, {
            details: frame.error.details,
          })
          if (this.readyWaiter) this.readyWaiter(error)
          else this.fail(error)
          return
        }
        const call = this.calls.get(id)
        if (!call) {
          this.fail(
            new FnError(
              'PROTOCOL_ERROR',
              `[fn] ${this.label} answered invocation ${id}, which is not in progress`,
            ),
          )
          return
        }
        this.calls.delete(id)
        // An abandoned call was answered already: this frame (the acknowledgement of the cancel,
        // or a result that crossed it) only frees the slot.
        if (call.abandoned) {
          clearTimeout(call.timer)
          if (this.concurrency === 1) this.collect(call) // its caller is gone: the output too
          for (const listener of this.releaseListeners) listener()
          return
        }
        const result =
          frame.type === 'result' ? this.output(call, frame) : { ok: false, error: frame.error }
        // What the call wrote to fd 1 and 2 is in the pipes now: read it before completing.
        if (this.concurrency === 1) this.drain()
        this.complete(call, result)
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

  /** A result's output: the JSON text as it came (rawOutput), or parsed here, once. */
  private output(
    call: Call,
    frame: { output: unknown; outputJson?: string },
  ): Pick<Outcome, 'ok' | 'output' | 'error'> {
    const json = frame.outputJson
    if (json === undefined) return { ok: true, output: frame.output }
    if (call.rawOutput) return { ok: true, output: new RawJson(json) }
    try {
      return { ok: true, output: JSON.parse(json) }
    } catch {
      const error = new FnError(
        'PROTOCOL_ERROR',
        `[fn] ${this.label} sent a result whose output is not JSON`,
      ).toJSON()
      return { ok: false, error }
    }
  }

  private complete(call: Call, result: Pick<Outcome, 'ok' | 'output' | 'error'>): void {
    const logs = this.concurrency === 1 ? this.collect(call) : call.logs
    call.settle({
      ...result,
      logs: finishLogs(logs, this.limits),
      cold: false,
      runMs: performance.now() - call.started,
    })
  }

  /**
   * Reads what is in the stdout and stderr pipes right now, straight from the kernel. The event
   * loop would deliver it too, but not always before the result frame that followed it: under
   * load, a child process's output was seen a turn late. Non-blocking: an empty pipe answers
   * EAGAIN at once.
   */
  private drain(): void {
    for (let i = 0; i < 2; i++) {
      const fd = this.pipeFds[i]
      if (fd === undefined) continue
      for (;;) {
        let n: number
        try {
          n = readSync(fd, DRAIN_BUFFER, 0, DRAIN_BUFFER.length, null)
        } catch {
          break // EAGAIN: empty (or closed)
        }
        if (n <= 0) break
        const chunk = Buffer.from(DRAIN_BUFFER.subarray(0, n))
        if (i === 0) this.stdout.push(chunk)
        else {
          this.tail.push(chunk)
          this.stderr.push(chunk)
        }
      }
    }
  }

  /** The call's log frames and what it wrote to fd 1 and 2 (one call at a time only). */
  private collect(call: Call): LogEntry[] {
    const out = this.stdout.take()
    const err = this.stderr.take()
    return out.length || err.length ? [...call.logs, ...out, ...err] : call.logs
  }

  /** Fails every invocation in progress and kills the worker. */
  private fail(error: FnError): void {
    if (this.readyWaiter) {
      this.readyWaiter(error)
      return
    }
    this.dead = true
    this.kill()
    const calls = [...this.calls.values()]
    this.calls.clear()
    for (const call of calls) {
      clearTimeout(call.timer)
      if (call.abandoned) continue
      const logs = this.concurrency === 1 ? this.collect(call) : call.logs
      call.settle(
        failure(error, finishLogs(logs, this.limits), false, performance.now() - call.started),
      )
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
    } else if (this.readyWaiter || (this.calls.size > 0 && !wasDead)) {
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

const DRAIN_BUFFER = Buffer.allocUnsafe(64 * 1024)

/** The file descriptor behind a child's pipe (libuv's handle), where Node exposes it. */
function pipeFd(stream: NodeJS.ReadableStream | null): number | undefined {
  const fd = (stream as { _handle?: { fd?: unknown } } | null)?._handle?.fd
  return typeof fd === 'number' && fd >= 0 ? fd : undefined
}
