/**
 * Build steps (compilers, dependency installers, fn.yaml `build` commands): run under the same
 * supervisor as functions, and a failure is BUILD_FAILED carrying the tail of the tool's output.
 */
import { FnError } from '@fn/protocol'
import { type LaunchSpec, type ProcessResult, runProcess } from './process'

export interface BuildStep {
  spec: LaunchSpec
  /** What runs, for messages: 'pip install', 'go build'. */
  what: string
  /** Whose build, for messages: 'function "hello"'. */
  label: string
  /** Default 5 minutes. */
  timeoutMs?: number
  /** How much of the output a BUILD_FAILED message carries. Default 8 KiB. */
  tailBytes?: number
  signal?: AbortSignal
}

const DEFAULT_BUILD_TIMEOUT_MS = 5 * 60_000

/** Runs one build step to success, or throws BUILD_FAILED (RUNTIME_NOT_AVAILABLE if the tool is missing). */
export async function runBuildStep(step: BuildStep): Promise<ProcessResult> {
  const timeoutMs = step.timeoutMs ?? DEFAULT_BUILD_TIMEOUT_MS
  const result = await runProcess(step.spec, {
    timeoutMs,
    maxStdoutBytes: 8 * 1024 * 1024,
    maxStderrBytes: 8 * 1024 * 1024,
    ...(step.signal ? { signal: step.signal } : {}),
  })
  if (result.spawnError) {
    throw new FnError(
      'RUNTIME_NOT_AVAILABLE',
      `[fn] could not run ${step.spec.command} for ${step.what} of ${step.label}: ${result.spawnError.message}`,
    )
  }
  if (result.exitCode === 0 && !result.timedOut && !result.cancelled) return result
  const output = buildOutput(result, step.tailBytes ?? 8192)
  const why = result.timedOut
    ? `did not finish within ${timeoutMs} ms`
    : result.cancelled
      ? 'was cancelled'
      : `failed (${result.signal ? `signal ${result.signal}` : `exit code ${result.exitCode}`})`
  throw new FnError('BUILD_FAILED', `[fn] ${step.what} for ${step.label} ${why}:\n${output}`, {
    details: { step: step.what, exitCode: result.exitCode, timedOut: result.timedOut, output },
  })
}

/** The last `tailBytes` of stderr + stdout, trimmed, starting on a whole line. */
export function buildOutput(result: ProcessResult, tailBytes = 8192): string {
  const text = `${result.stdout.toString('utf8')}\n${result.stderr.toString('utf8')}`.trim()
  if (text.length <= tailBytes) return text
  const tail = text.slice(-tailBytes)
  const nl = tail.indexOf('\n')
  return `… ${nl === -1 ? tail : tail.slice(nl + 1)}`
}
