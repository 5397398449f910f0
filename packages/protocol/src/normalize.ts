import { ErrorCode, FnError } from './errors'
import { excerpt, isRecord, typeName } from './issues'
import { type FnErrorBody, type FnResponse, LOG_LEVELS, type LogEntry, type LogLevel } from './wire'

/** Level names seen in the wild, mapped to ours. Anything else is 'info'. */
const LEVEL_ALIASES: Record<string, LogLevel> = {
  trace: 'debug',
  verbose: 'debug',
  log: 'info',
  notice: 'info',
  warning: 'warn',
  err: 'error',
  fatal: 'error',
  critical: 'error',
}

function reject(reason: string): never {
  throw new FnError(ErrorCode.PROTOCOL_ERROR, `[fn] invalid response: ${reason}`)
}

function expected(path: string, what: string, value: unknown): never {
  const found = typeof value === 'number' || typeof value === 'boolean' ? value : typeName(value)
  return reject(`${path}: expected ${what}, received ${found}`)
}

function isMilliseconds(value: unknown): value is number {
  return typeof value === 'number' && value >= 0
}

/** undefined and null both mean "not there". */
function present(value: unknown): boolean {
  return value !== undefined && value !== null
}

function optionalMs(raw: Record<string, unknown>, key: string): number | undefined {
  const value = raw[key]
  if (!present(value)) return undefined
  if (!isMilliseconds(value)) return expected(key, 'a number >= 0', value)
  return value
}

/** `error` as an object or a bare string; `errorCode` is the code when `error` has none. */
function normalizeError(error: unknown, errorCode: string): FnErrorBody | undefined {
  if (!present(error)) return undefined
  if (typeof error === 'string') return { code: errorCode, message: error }
  if (!isRecord(error)) return expected('error', 'a string or an object', error)
  const { code, message, details } = error
  if (present(code) && typeof code !== 'string') expected('error.code', 'a string', code)
  if (present(message) && typeof message !== 'string') {
    expected('error.message', 'a string', message)
  }
  const body: FnErrorBody = {
    code: (code as string | undefined) ?? errorCode,
    message: (message as string | undefined) ?? `function failed with ${code ?? errorCode}`,
  }
  if (details !== undefined) body.details = details
  return body
}

function normalizeLevel(level: unknown): LogLevel {
  if (typeof level !== 'string') return 'info'
  const name = level.toLowerCase()
  return (LOG_LEVELS as readonly string[]).includes(name)
    ? (name as LogLevel)
    : (LEVEL_ALIASES[name] ?? 'info')
}

function normalizeTimestamp(value: unknown, now: string): string {
  if (typeof value === 'string' && value !== '') return value
  if (typeof value === 'number') {
    const date = new Date(value)
    if (!Number.isNaN(date.getTime())) return date.toISOString()
  }
  return now
}

function asMessage(value: unknown): string {
  if (typeof value === 'string') return value
  try {
    return JSON.stringify(value) ?? ''
  } catch {
    return String(typeof value)
  }
}

/**
 * One log entry, never rejected: a bare string is an info message, an unknown or missing level is
 * 'info' (common aliases like 'warning' are mapped), a missing timestamp is now, an epoch number
 * becomes ISO, a non-string message is JSON-encoded.
 */
function normalizeLog(entry: unknown, now: string): LogEntry {
  if (!isRecord(entry)) return { level: 'info', message: asMessage(entry), timestamp: now }
  const log: LogEntry = {
    level: normalizeLevel(entry.level),
    message: asMessage(entry.message ?? entry.msg),
    timestamp: normalizeTimestamp(entry.timestamp, now),
  }
  if (entry.data !== undefined) log.data = entry.data
  return log
}

/**
 * Turn what a function printed into the canonical FnResponse, accepting the variants seen in real
 * functions: `error` as a bare string, a separate `error_code`, `logs` missing or sloppy, `success`
 * missing, extra fields (dropped). `request_id` and `duration_ms` come from `fallback` when absent.
 * Throws FnError PROTOCOL_ERROR naming the bad field when `raw` is not a response.
 */
export function normalizeResponse(
  raw: unknown,
  fallback: { request_id?: string; duration_ms?: number } = {},
): FnResponse {
  if (!isRecord(raw)) return expected('(root)', 'an object', raw)

  const requestId = present(raw.request_id) ? raw.request_id : fallback.request_id
  if (typeof requestId !== 'string') {
    if (requestId === undefined) reject('request_id: missing')
    expected('request_id', 'a string', requestId)
  }

  const durationMs = present(raw.duration_ms) ? raw.duration_ms : fallback.duration_ms
  if (durationMs === undefined) reject('duration_ms: missing')
  if (!isMilliseconds(durationMs)) {
    expected('duration_ms', 'a number >= 0', durationMs)
  }

  const errorCode = raw.error_code
  if (present(errorCode) && typeof errorCode !== 'string') {
    expected('error_code', 'a string', errorCode)
  }
  const code = (errorCode as string | undefined) ?? ErrorCode.FUNCTION_ERROR
  const error = normalizeError(raw.error, code)
  let success = raw.success
  if (!present(success)) {
    if (error || present(errorCode)) success = false
    else if ('output' in raw) success = true
    else reject('success: missing, and there is neither an error nor an output')
  }
  if (typeof success !== 'boolean') return expected('success', 'a boolean', success)
  if (success && error) {
    reject(`success is true but error is set (${excerpt(error.message)})`)
  }

  let logs: LogEntry[] = []
  if (present(raw.logs)) {
    if (!Array.isArray(raw.logs)) expected('logs', 'an array', raw.logs)
    const now = new Date().toISOString()
    logs = raw.logs.map((entry) => normalizeLog(entry, now))
  }

  const response: FnResponse = { request_id: requestId, success, logs, duration_ms: durationMs }
  if (raw.output !== undefined) response.output = raw.output
  if (!success) {
    response.error = error ?? {
      code,
      message: '[fn] the function reported failure without an error message',
    }
  }
  if (present(raw.cold)) {
    if (typeof raw.cold !== 'boolean') expected('cold', 'a boolean', raw.cold)
    response.cold = raw.cold
  }
  const queueMs = optionalMs(raw, 'queue_ms')
  if (queueMs !== undefined) response.queue_ms = queueMs
  const runMs = optionalMs(raw, 'run_ms')
  if (runMs !== undefined) response.run_ms = runMs
  return response
}
