/**
 * Captures one output stream (fd 1 or fd 2) of a warm worker for the invocation in progress.
 *
 * Attribution needs no marker in the stream: a worker finishes writing a call's output before it
 * sends the call's result frame, so when the result arrives, everything the call wrote is already
 * in the pipe. The worker reads the pipes then, straight from the kernel (`Worker.drain`: the
 * event loop does not always deliver them before the frame), and ends the capture with `take()`.
 * What arrives while no invocation is being captured goes to `onStray`.
 */
import type { LogEntry, LogLevel } from '@fn/protocol'
import { type LogLimits, linesToLogs } from './logs'
import { CappedBuffer } from './tail'

export class StreamCapture {
  private kept: CappedBuffer | undefined
  private active = false
  private firstAt = ''
  private closedWaiters: Array<() => void> = []
  closed = false

  constructor(
    private readonly level: LogLevel,
    private readonly limits: LogLimits,
    private readonly onStray: (text: string) => void,
  ) {}

  /** Starts attributing output to the invocation that begins now. */
  begin(): void {
    this.active = true
    this.kept = undefined
    this.firstAt = ''
  }

  push(chunk: Buffer): void {
    if (!this.active) {
      this.onStray(chunk.toString('utf8'))
      return
    }
    if (!this.firstAt) this.firstAt = new Date().toISOString()
    this.kept ??= new CappedBuffer(this.limits.maxLogBytes)
    this.kept.push(chunk)
  }

  close(): void {
    this.closed = true
    for (const resolve of this.closedWaiters.splice(0)) resolve()
  }

  /** Resolves once the stream closed (the process and its group are gone), or after `ms`. */
  settled(ms: number): Promise<void> {
    if (this.closed) return Promise.resolve()
    return new Promise((resolve) => {
      const timer = setTimeout(resolve, ms)
      this.closedWaiters.push(() => {
        clearTimeout(timer)
        resolve()
      })
    })
  }

  /** Ends the invocation and returns its output as log entries. */
  take(): LogEntry[] {
    const kept = this.kept
    this.active = false
    this.kept = undefined
    if (!kept || kept.total === 0) return []
    const logs = linesToLogs(
      kept.toBuffer().toString('utf8'),
      this.level,
      this.firstAt,
      this.limits,
    )
    if (kept.overflowed) {
      logs.push({
        level: 'warn',
        message: `[fn] ${kept.total - kept.limit} bytes of ${this.level === 'error' ? 'stderr' : 'stdout'} dropped (log cap)`,
        timestamp: this.firstAt,
      })
    }
    return logs
  }
}
