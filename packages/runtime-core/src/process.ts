/**
 * Process supervision, once for every adapter: spawn in its own process group, feed stdin,
 * capture output with caps, enforce the deadline by killing the whole group (SIGTERM, then
 * SIGKILL after a grace), and leave nothing behind when the process ends.
 */
import type { ChildProcess, StdioOptions } from 'node:child_process'
import spawn from 'cross-spawn'
import { DEFAULTS } from './defaults'
import { watchMemory } from './memory'
import { CappedBuffer, TailBuffer } from './tail'

/** How to start a process: what an adapter returns. */
export interface LaunchSpec {
  command: string
  args: readonly string[]
  /** The complete environment (see functionEnv): nothing is inherited. */
  env: Record<string, string>
  cwd: string
}

export interface RunOptions {
  /** Written to stdin, which is then closed. */
  input?: string | Buffer
  /** Kill the process group after this many ms. */
  timeoutMs?: number
  /** Time between SIGTERM and SIGKILL. Default 500 ms. */
  killGraceMs?: number
  /** stdout beyond this kills the process (outputLimit). Default 32 MiB. */
  maxStdoutBytes?: number
  /** stderr kept for logs; the rest is counted and dropped. Default 1 MiB. */
  maxStderrBytes?: number
  signal?: AbortSignal
  /** Kill the process group when the process's resident memory exceeds this (MiB). */
  memoryLimitMb?: number
}

export interface ProcessResult {
  pid: number | undefined
  exitCode: number | null
  signal: NodeJS.Signals | null
  stdout: Buffer
  stderr: Buffer
  /** The last 4 KiB of stderr, for error messages. */
  stderrTail: string
  timedOut: boolean
  cancelled: boolean
  outputLimit: boolean
  /** Resident memory (MiB) seen over `memoryLimitMb`, when that is why it was killed. */
  memoryExceededMb?: number
  durationMs: number
  /** Set when the process could not be started at all (ENOENT, EACCES). */
  spawnError?: NodeJS.ErrnoException
}

export const DEFAULT_KILL_GRACE_MS: number = DEFAULTS.killGraceMs

/** Sends a signal to a whole process group; a group that is already gone is not an error. */
export function killGroup(pid: number | undefined, signal: NodeJS.Signals): void {
  if (!pid) return
  try {
    process.kill(-pid, signal)
  } catch {
    // ESRCH: nothing left in the group.
  }
}

/** SIGTERM the group now and SIGKILL it after `graceMs` unless `exited` settles first. */
export function terminateGroup(
  pid: number | undefined,
  graceMs: number,
  exited: Promise<unknown>,
): Promise<void> {
  killGroup(pid, 'SIGTERM')
  return new Promise((resolve) => {
    const timer = setTimeout(() => {
      killGroup(pid, 'SIGKILL')
      resolve()
    }, graceMs)
    exited.then(() => {
      clearTimeout(timer)
      // The leader is gone; whatever it left in its group goes too.
      killGroup(pid, 'SIGKILL')
      resolve()
    })
  })
}

/** Spawns detached (a new process group, so the group can be killed as one). */
export function spawnGroup(spec: LaunchSpec, stdio: StdioOptions): ChildProcess {
  return spawn(spec.command, [...spec.args], {
    cwd: spec.cwd,
    env: spec.env,
    stdio,
    detached: true,
    windowsHide: true,
  })
}

/** The exit of a child as a promise; never rejects. */
export function exitOf(
  child: ChildProcess,
): Promise<{ code: number | null; signal: NodeJS.Signals | null; error?: NodeJS.ErrnoException }> {
  return new Promise((resolve) => {
    if (child.exitCode !== null || child.signalCode !== null) {
      resolve({ code: child.exitCode, signal: child.signalCode })
      return
    }
    child.once('error', (error: NodeJS.ErrnoException) =>
      resolve({ code: null, signal: null, error }),
    )
    child.once('exit', (code, signal) => resolve({ code, signal }))
  })
}

/** Runs a process to completion under the limits given. Never rejects. */
export async function runProcess(
  spec: LaunchSpec,
  options: RunOptions = {},
): Promise<ProcessResult> {
  const started = performance.now()
  const stdout = new CappedBuffer(options.maxStdoutBytes ?? DEFAULTS.maxOutputBytes)
  const stderr = new CappedBuffer(options.maxStderrBytes ?? 1024 * 1024)
  const tail = new TailBuffer(4096)
  const grace = options.killGraceMs ?? DEFAULT_KILL_GRACE_MS
  let timedOut = false
  let cancelled = false
  let outputLimit = false

  const child = spawnGroup(spec, ['pipe', 'pipe', 'pipe'])
  const exited = exitOf(child)
  let stopping: Promise<void> | undefined
  const stop = () => {
    stopping ??= terminateGroup(child.pid, grace, exited)
  }

  child.stdout?.on('data', (chunk: Buffer) => {
    if (!stdout.push(chunk) && !outputLimit) {
      outputLimit = true
      stop()
    }
  })
  child.stderr?.on('data', (chunk: Buffer) => {
    stderr.push(chunk)
    tail.push(chunk)
  })
  child.stdin?.on('error', () => {
    // The process exited or closed stdin without reading it all: its exit tells the story.
  })
  if (child.pid !== undefined) child.stdin?.end(options.input ?? '')

  const timer =
    options.timeoutMs !== undefined
      ? setTimeout(() => {
          timedOut = true
          stop()
        }, options.timeoutMs)
      : undefined
  let memoryExceededMb: number | undefined
  const stopWatching = watchMemory(child.pid, options.memoryLimitMb, (used) => {
    memoryExceededMb = used
    stop()
  })
  const onAbort = () => {
    cancelled = true
    stop()
  }
  if (options.signal?.aborted) onAbort()
  else options.signal?.addEventListener('abort', onAbort, { once: true })

  const exit = await exited
  clearTimeout(timer)
  stopWatching()
  options.signal?.removeEventListener('abort', onAbort)
  // Leave nothing behind: grandchildren die with the leader, and their pipes close with them.
  killGroup(child.pid, 'SIGKILL')
  await Promise.all([closed(child.stdout), closed(child.stderr)])
  await stopping

  return {
    pid: child.pid,
    exitCode: exit.code,
    signal: exit.signal,
    stdout: stdout.toBuffer(),
    stderr: stderr.toBuffer(),
    stderrTail: tail.toString(),
    timedOut,
    cancelled,
    outputLimit,
    ...(memoryExceededMb !== undefined ? { memoryExceededMb } : {}),
    durationMs: performance.now() - started,
    ...(exit.error ? { spawnError: exit.error } : {}),
  }
}

function closed(stream: NodeJS.ReadableStream | null | undefined): Promise<void> {
  if (!stream) return Promise.resolve()
  return new Promise((resolve) => {
    const s = stream as NodeJS.ReadableStream & { closed?: boolean; destroyed?: boolean }
    if (s.closed || s.destroyed) return resolve()
    s.once('close', () => resolve())
    s.once('end', () => resolve())
    s.once('error', () => resolve())
  })
}
