/**
 * The defaults of runtime-core's limits, in one place: every option that falls back to one of
 * these names it in its JSDoc, and nothing else writes the number again.
 */
export const DEFAULTS = {
  /**
   * Callers allowed to wait at one gate (a function's, or the executor's) before BUSY. Sized for
   * bursts: 256 callers against one function on default settings all wait their turn.
   */
  maxQueue: 4096,
  /** How long a caller may wait at a gate before BUSY (ms). */
  queueTimeoutMs: 30_000,
  /** A worker must say `ready` within this (ms). */
  startTimeoutMs: 10_000,
  /** Time between SIGTERM and SIGKILL of a process group (ms). */
  killGraceMs: 500,
  /** A worker running several calls must acknowledge a `cancel` within this (ms), else it is wedged. */
  cancelGraceMs: 1000,
  /** stdout kept from a stdio function; beyond it the call is OUTPUT_LIMIT (bytes). */
  maxOutputBytes: 32 * 1024 * 1024,
  /** The largest frame accepted from a worker; a result is one frame (bytes). */
  maxFrameBytes: 64 * 1024 * 1024,
} as const
