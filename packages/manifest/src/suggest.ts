/** Edit distance where swapping two neighbours counts as one edit (optimal string alignment). */
export function editDistance(a: string, b: string): number {
  const rows = a.length + 1
  const cols = b.length + 1
  const d: number[] = new Array(rows * cols).fill(0)
  for (let i = 0; i < rows; i++) d[i * cols] = i
  for (let j = 0; j < cols; j++) d[j] = j
  for (let i = 1; i < rows; i++) {
    for (let j = 1; j < cols; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1
      let best = Math.min(
        d[(i - 1) * cols + j]! + 1,
        d[i * cols + j - 1]! + 1,
        d[(i - 1) * cols + j - 1]! + cost,
      )
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) {
        best = Math.min(best, d[(i - 2) * cols + j - 2]! + 1)
      }
      d[i * cols + j] = best
    }
  }
  return d[rows * cols - 1]!
}

const squash = (s: string): string => s.toLowerCase().replace(/[-_\s]/g, '')

/**
 * The candidate closest to `input`, or undefined when none is close enough to be a likely typo.
 * `idleTimeout`, `IDLE-TIMEOUT` and `idle_timout` all suggest `idle_timeout`.
 */
export function closest(input: string, candidates: readonly string[]): string | undefined {
  if (input.length > 100) return undefined
  const wanted = squash(input)
  for (const candidate of candidates) if (squash(candidate) === wanted) return candidate
  let best: string | undefined
  let bestDistance = Number.POSITIVE_INFINITY
  for (const candidate of candidates) {
    const distance = editDistance(input.toLowerCase(), candidate)
    const limit = Math.max(2, Math.floor(candidate.length / 3))
    if (distance <= limit && distance < candidate.length && distance < bestDistance) {
      best = candidate
      bestDistance = distance
    }
  }
  return best
}
