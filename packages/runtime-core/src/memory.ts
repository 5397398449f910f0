/**
 * A memory watchdog for function processes: samples the resident set size of the process (the
 * leader of its group) and reports when it crosses the limit. A backstop under the runtimes' own
 * limits (heap flags, RLIMIT_AS, GOMEMLIMIT), and the only limit for runtimes without one (bun).
 * Linux only (/proc); elsewhere it does nothing.
 */
import { readFileSync } from 'node:fs'

/** Resident set size of `pid` in MiB, or undefined when it cannot be read. */
export function rssMb(pid: number): number | undefined {
  try {
    const status = readFileSync(`/proc/${pid}/status`, 'latin1')
    const match = /VmRSS:\s+(\d+) kB/.exec(status)
    return match ? Number(match[1]) / 1024 : undefined
  } catch {
    return undefined
  }
}

const supported = process.platform === 'linux'

/** Calls `onExceeded` (once) when the RSS of `pid` exceeds `limitMb`; returns a stop function. */
export function watchMemory(
  pid: number | undefined,
  limitMb: number | undefined,
  onExceeded: (usedMb: number) => void,
  intervalMs = 50,
): () => void {
  if (!supported || !pid || !limitMb) return () => {}
  const timer = setInterval(() => {
    const used = rssMb(pid)
    if (used !== undefined && used > limitMb) {
      clearInterval(timer)
      onExceeded(used)
    }
  }, intervalMs)
  timer.unref()
  return () => clearInterval(timer)
}

export function memoryMessage(what: string, usedMb: number, limitMb: number): string {
  return `[fn] ${what} used ${Math.round(usedMb)} MB, over its memory limit of ${limitMb} MB; its process group was killed (raise memory: in fn.yaml)`
}
