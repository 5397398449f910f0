import type { LogEntry, LogLevel } from '@fn/protocol'

export interface LogLimits {
  /** A longer line is cut and marked; default 16 KiB. */
  maxLineBytes: number
  /** Log bytes kept per invocation (all sources); default 1 MiB. */
  maxLogBytes: number
}

export const DEFAULT_LOG_LIMITS: LogLimits = { maxLineBytes: 16 * 1024, maxLogBytes: 1024 * 1024 }

/** Cuts a message to `max` bytes (on a character boundary) and says how much was cut. */
export function truncate(message: string, max: number): string {
  if (message.length <= max / 4 || Buffer.byteLength(message) <= max) return message
  const buf = Buffer.from(message)
  let end = max
  while (end > 0 && ((buf[end] ?? 0) & 0xc0) === 0x80) end--
  return `${buf.subarray(0, end).toString('utf8')}… [fn: truncated ${buf.length - end} bytes]`
}

/** Turns captured output into log entries, one per line. */
export function linesToLogs(
  text: string,
  level: LogLevel,
  timestamp: string,
  limits: LogLimits,
): LogEntry[] {
  const out: LogEntry[] = []
  if (!text) return out
  const lines = text.split('\n')
  if (lines[lines.length - 1] === '') lines.pop()
  for (const line of lines) {
    const message = truncate(line.endsWith('\r') ? line.slice(0, -1) : line, limits.maxLineBytes)
    out.push({ level, message, timestamp })
  }
  return out
}

/**
 * Merges entries from several sources in time order and enforces the per-invocation cap:
 * what is over it is dropped and one last entry says how much.
 */
export function finishLogs(entries: LogEntry[], limits: LogLimits): LogEntry[] {
  entries.sort((a, b) => (a.timestamp < b.timestamp ? -1 : a.timestamp > b.timestamp ? 1 : 0))
  let bytes = 0
  let dropped = 0
  const kept: LogEntry[] = []
  for (const entry of entries) {
    const message = truncate(entry.message, limits.maxLineBytes)
    const size = Buffer.byteLength(message) + 64
    if (bytes + size > limits.maxLogBytes) {
      dropped++
      continue
    }
    bytes += size
    kept.push(message === entry.message ? entry : { ...entry, message })
  }
  if (dropped > 0) {
    kept.push({
      level: 'warn',
      message: `[fn] ${dropped} log entries dropped: the invocation exceeded the ${limits.maxLogBytes}-byte log cap`,
      timestamp: new Date().toISOString(),
    })
  }
  return kept
}
