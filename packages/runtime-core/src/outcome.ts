import type { FnErrorBody, LogEntry } from '@fn/protocol'
import { FnError } from '@fn/protocol'

/** How one invocation ended, before the executor adds request_id and timings. */
export interface Outcome {
  ok: boolean
  output?: unknown
  error?: FnErrorBody
  logs: LogEntry[]
  /** A process was started for this call. */
  cold: boolean
  /** Time spent in the function process (ms). */
  runMs: number
}

export function failure(
  error: FnError | FnErrorBody,
  logs: LogEntry[],
  cold: boolean,
  runMs: number,
): Outcome {
  const body = error instanceof FnError ? error.toJSON() : error
  return { ok: false, error: body, logs, cold, runMs }
}

const OUT_OF_MEMORY =
  /heap out of memory|MemoryError|fatal error: runtime: out of memory|out of memory/i

/** Describes an unexpected exit: MEMORY_LIMIT when the runtime says so, CRASHED otherwise. */
export function exitError(
  what: string,
  exit: { code: number | null; signal: NodeJS.Signals | null },
  stderrTail: string,
): FnError {
  const how = exit.signal ? `was killed by ${exit.signal}` : `exited with code ${exit.code}`
  const tail = stderrTail.trim()
  const details = { exitCode: exit.code, signal: exit.signal, stderr: tail }
  if (OUT_OF_MEMORY.test(tail)) {
    return new FnError(
      'MEMORY_LIMIT',
      `[fn] ${what} ran out of memory (${how})${tail ? `:\n${tail}` : ''}`,
      {
        details,
      },
    )
  }
  return new FnError(
    'CRASHED',
    `[fn] ${what} ${how}${tail ? `; stderr:\n${tail}` : ' and wrote nothing to stderr'}`,
    {
      details,
    },
  )
}
