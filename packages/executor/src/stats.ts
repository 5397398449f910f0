/** Per-function counters and a window of recent durations for percentiles. */
export interface FunctionStats {
  invocations: number
  errors: Record<string, number>
  coldStarts: number
  p50Ms: number | null
  p99Ms: number | null
  workersAlive: number
}

const WINDOW = 1024

export class StatsRecorder {
  invocations = 0
  coldStarts = 0
  readonly errors: Record<string, number> = {}
  private readonly durations = new Float64Array(WINDOW)
  private count = 0

  record(durationMs: number, cold: boolean, errorCode?: string): void {
    this.invocations++
    if (cold) this.coldStarts++
    if (errorCode) this.errors[errorCode] = (this.errors[errorCode] ?? 0) + 1
    this.durations[this.count % WINDOW] = durationMs
    this.count++
  }

  snapshot(workersAlive: number): FunctionStats {
    const n = Math.min(this.count, WINDOW)
    const sorted = Array.from(this.durations.subarray(0, n)).sort((a, b) => a - b)
    const pick = (q: number) =>
      n === 0 ? null : round(sorted[Math.min(n - 1, Math.floor(q * n))]!)
    return {
      invocations: this.invocations,
      errors: { ...this.errors },
      coldStarts: this.coldStarts,
      p50Ms: pick(0.5),
      p99Ms: pick(0.99),
      workersAlive,
    }
  }
}

const round = (ms: number) => Math.round(ms * 1000) / 1000
