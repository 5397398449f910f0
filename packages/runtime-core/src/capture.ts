/**
 * Captures one output stream (fd 1 or fd 2) of a warm worker and cuts it into invocations.
 * After each invocation the worker writes an end marker on the stream; what precedes it belongs
 * to that invocation, what arrives outside any invocation goes to `onStray`.
 */
import type { LogEntry, LogLevel } from '@fn/protocol'
import { type LogLimits, linesToLogs } from './logs'
import { CappedBuffer } from './tail'

const EMPTY = Buffer.alloc(0)

export class StreamCapture {
  private marker: Buffer | undefined
  private held: Buffer = EMPTY
  private kept: CappedBuffer | undefined
  private firstAt = ''
  private waiting: (() => void) | undefined
  private ended = false
  closed = false

  constructor(
    private readonly level: LogLevel,
    private readonly limits: LogLimits,
    private readonly onStray: (text: string) => void,
  ) {}

  /** Starts attributing output to the invocation whose end marker is `marker`. */
  begin(marker: Buffer): void {
    this.marker = marker
    this.kept = undefined
    this.firstAt = ''
    this.ended = false
    this.held = EMPTY
  }

  push(chunk: Buffer): void {
    if (!this.marker || this.ended) {
      this.onStray(chunk.toString('utf8'))
      return
    }
    // The common case on the hot path: the invocation wrote nothing, the chunk is the marker.
    if (this.held.length === 0 && chunk.equals(this.marker)) {
      this.ended = true
      this.waiting?.()
      return
    }
    if (!this.firstAt) this.firstAt = new Date().toISOString()
    this.kept ??= new CappedBuffer(this.limits.maxLogBytes)
    const data = this.held.length ? Buffer.concat([this.held, chunk]) : chunk
    const at = data.indexOf(this.marker)
    if (at !== -1) {
      this.kept.push(data.subarray(0, at))
      this.held = EMPTY
      const rest = data.subarray(at + this.marker.length)
      this.ended = true
      if (rest.length) this.onStray(rest.toString('utf8'))
      this.waiting?.()
      return
    }
    // Hold back a possible partial marker at the end.
    const keep = Math.max(0, data.length - (this.marker.length - 1))
    this.kept.push(data.subarray(0, keep))
    this.held = data.subarray(keep)
  }

  /** The end marker of the current invocation arrived, or the stream is gone. */
  get done(): boolean {
    return this.ended || this.closed
  }

  close(): void {
    this.closed = true
    this.waiting?.()
  }

  /** Resolves once the end marker arrived (or the stream closed, or `ms` passed). */
  settled(ms: number): Promise<void> {
    if (this.ended || this.closed) return Promise.resolve()
    return new Promise((resolve) => {
      const timer = setTimeout(done, ms)
      function done() {
        clearTimeout(timer)
        resolve()
      }
      this.waiting = () => {
        this.waiting = undefined
        done()
      }
    })
  }

  /** Ends the invocation and returns its output as log entries. */
  take(): LogEntry[] {
    const kept = this.kept
    if (this.held.length) kept?.push(this.held)
    this.marker = undefined
    this.kept = undefined
    this.held = EMPTY
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
