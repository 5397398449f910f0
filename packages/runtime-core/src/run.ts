/**
 * One invocation in a fresh process: the stdio protocol (request on stdin, response on stdout)
 * and the oneshot mode of handler functions (a worker that serves one call).
 */
import { FnError, type FnRequest, type LogEntry, normalizeResponse } from '@fn/protocol'
import { DEFAULTS } from './defaults'
import { DEFAULT_LOG_LIMITS, finishLogs, type LogLimits, linesToLogs } from './logs'
import { memoryMessage } from './memory'
import { exitError, failure, type Outcome } from './outcome'
import { type LaunchSpec, runProcess } from './process'
import { Worker, type WorkerOptions } from './worker'

export interface OneshotOptions {
  timeoutMs: number
  /** Kill the process when its resident memory exceeds this (MiB): MEMORY_LIMIT. */
  memoryLimitMb?: number
  signal?: AbortSignal
  /** Handler output as `RawJson` (see Worker). Default false. */
  rawOutput?: boolean
  /** Names the function in messages, e.g. 'function "hello"'. */
  label?: string
  /** stdout beyond this is OUTPUT_LIMIT. Default 32 MiB. */
  maxOutputBytes?: number
  killGraceMs?: number
  logs?: Partial<LogLimits>
}

/** Runs a `protocol: stdio` function once. Never rejects. */
export async function runStdio(
  spec: LaunchSpec,
  request: FnRequest,
  options: OneshotOptions,
): Promise<Outcome> {
  const label = options.label ?? 'function'
  const limits = { ...DEFAULT_LOG_LIMITS, ...options.logs }
  let input: string
  try {
    input = JSON.stringify(request)
  } catch (err) {
    const message = `[fn] the input for ${label} cannot be sent as JSON: ${(err as Error).message}`
    return failure(new FnError('INVALID_INPUT', message), [], false, 0)
  }
  const result = await runProcess(spec, {
    input,
    timeoutMs: options.timeoutMs,
    maxStdoutBytes: options.maxOutputBytes ?? DEFAULTS.maxOutputBytes,
    maxStderrBytes: limits.maxLogBytes,
    ...(options.signal ? { signal: options.signal } : {}),
    ...(options.killGraceMs !== undefined ? { killGraceMs: options.killGraceMs } : {}),
    ...(options.memoryLimitMb ? { memoryLimitMb: options.memoryLimitMb } : {}),
  })
  const at = new Date().toISOString()
  const stderrLogs = linesToLogs(result.stderr.toString('utf8'), 'error', at, limits)
  const done = (error: FnError, logs: LogEntry[] = stderrLogs) =>
    failure(error, finishLogs(logs, limits), true, result.durationMs)

  if (result.spawnError) {
    return done(
      new FnError(
        'RUNTIME_NOT_AVAILABLE',
        `[fn] could not start ${label} (${spec.command}): ${result.spawnError.message}`,
      ),
    )
  }
  if (result.cancelled)
    return done(new FnError('CANCELLED', `[fn] ${label}: the invocation was cancelled`))
  if (result.timedOut) {
    return done(
      new FnError(
        'TIMEOUT',
        `[fn] ${label} timed out after ${options.timeoutMs} ms; its process group was killed`,
        {
          details: { timeoutMs: options.timeoutMs },
        },
      ),
    )
  }
  if (result.memoryExceededMb !== undefined) {
    const limit = options.memoryLimitMb ?? 0
    return done(new FnError('MEMORY_LIMIT', memoryMessage(label, result.memoryExceededMb, limit)))
  }
  if (result.outputLimit) {
    return done(
      new FnError(
        'OUTPUT_LIMIT',
        `[fn] ${label} wrote more than ${options.maxOutputBytes ?? DEFAULTS.maxOutputBytes} bytes to stdout; it was killed`,
      ),
    )
  }
  const parsed = parseStdout(result.stdout.toString('utf8'), at, limits)
  if (parsed.ok) {
    try {
      const response = normalizeResponse(parsed.value, {
        request_id: request.request_id,
        duration_ms: result.durationMs,
      })
      const logs = finishLogs([...response.logs, ...parsed.logs, ...stderrLogs], limits)
      if (response.success)
        return {
          ok: true,
          output: response.output ?? null,
          logs,
          cold: true,
          runMs: result.durationMs,
        }
      const error = response.error ?? {
        code: 'FUNCTION_ERROR',
        message: 'the function reported failure',
      }
      return { ok: false, error, logs, cold: true, runMs: result.durationMs }
    } catch (err) {
      if (result.exitCode === 0) return done(withTail(err as FnError, result.stderrTail))
    }
  }
  if (result.exitCode !== 0 || result.signal) {
    return done(
      exitError(label, { code: result.exitCode, signal: result.signal }, result.stderrTail),
    )
  }
  const excerpt = result.stdout.subarray(0, 200).toString('utf8')
  return done(
    withTail(
      new FnError(
        'PROTOCOL_ERROR',
        excerpt.trim()
          ? `[fn] ${label} wrote something that is not a JSON response to stdout: ${JSON.stringify(excerpt)}`
          : `[fn] ${label} exited without writing a response to stdout`,
      ),
      result.stderrTail,
    ),
  )
}

/** The whole of stdout as JSON; failing that, its last line, the lines before becoming logs. */
function parseStdout(
  text: string,
  at: string,
  limits: LogLimits,
): { ok: true; value: unknown; logs: LogEntry[] } | { ok: false } {
  const trimmed = text.trim()
  if (!trimmed) return { ok: false }
  try {
    return { ok: true, value: JSON.parse(trimmed), logs: [] }
  } catch {
    const cut = trimmed.lastIndexOf('\n')
    if (cut === -1) return { ok: false }
    try {
      const value = JSON.parse(trimmed.slice(cut + 1))
      return { ok: true, value, logs: linesToLogs(trimmed.slice(0, cut), 'info', at, limits) }
    } catch {
      return { ok: false }
    }
  }
}

function withTail(error: FnError, tail: string): FnError {
  const t = tail.trim()
  if (!t) return error
  return new FnError(error.code, `${error.message}; stderr:\n${t}`, {
    details: error.details,
    cause: error,
  })
}

/** Runs a handler function in a fresh worker for one call (mode: oneshot). Never rejects. */
export async function runHandlerOnce(
  spec: LaunchSpec,
  request: FnRequest,
  options: OneshotOptions & Pick<WorkerOptions, 'startTimeoutMs' | 'onStray'>,
): Promise<Outcome> {
  const started = performance.now()
  let worker: Worker
  try {
    worker = await Worker.start(spec, {
      ...(options.label ? { label: options.label } : {}),
      ...(options.startTimeoutMs ? { startTimeoutMs: options.startTimeoutMs } : {}),
      ...(options.onStray ? { onStray: options.onStray } : {}),
      ...(options.logs ? { logs: options.logs } : {}),
      ...(options.memoryLimitMb ? { memoryLimitMb: options.memoryLimitMb } : {}),
    })
  } catch (err) {
    return failure(err as FnError, [], true, performance.now() - started)
  }
  const outcome = await worker.invoke(request, {
    timeoutMs: options.timeoutMs,
    ...(options.signal ? { signal: options.signal } : {}),
    ...(options.rawOutput ? { rawOutput: true } : {}),
  })
  await worker.shutdown()
  return { ...outcome, cold: true, runMs: performance.now() - started }
}
