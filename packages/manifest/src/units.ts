import { FnError } from '@fn/protocol'

/** Node timers fire at once for anything longer, so no duration may exceed it (about 24.8 days). */
export const MAX_DURATION_MS = 2_147_483_647

export const DURATION_EXPECTED =
  'a duration like "500ms", "30s", "5m" or "1h30m" (units ms, s, m, h; a plain number means seconds)'

export const SIZE_EXPECTED =
  'a size in megabytes like 128, "256mb" or "1gb" (units mb, gb; a plain number means megabytes)'

type Parsed = { ok: true; value: number } | { ok: false; expected: string }

const DURATION_UNITS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 }
const NUMBER = /^\d+(?:\.\d+)?$/
const DURATION_PART = /(\d+(?:\.\d+)?)\s*(ms|s|m|h)\s*/y

/** Milliseconds, or what was expected instead. */
export function tryDuration(value: unknown): Parsed {
  let ms: number
  if (typeof value === 'number') {
    if (!Number.isFinite(value)) return { ok: false, expected: DURATION_EXPECTED }
    if (value < 0) return { ok: false, expected: 'a duration of 0 or more' }
    ms = value * 1000
  } else if (typeof value === 'string') {
    const text = value.trim().toLowerCase()
    if (NUMBER.test(text)) {
      ms = Number(text) * 1000
    } else {
      if (text.startsWith('-')) return { ok: false, expected: 'a duration of 0 or more' }
      ms = 0
      DURATION_PART.lastIndex = 0
      let parts = 0
      while (DURATION_PART.lastIndex < text.length) {
        const match = DURATION_PART.exec(text)
        if (match === null) return { ok: false, expected: DURATION_EXPECTED }
        ms += Number(match[1]) * DURATION_UNITS[match[2]!]!
        parts++
      }
      if (parts === 0) return { ok: false, expected: DURATION_EXPECTED }
    }
  } else {
    return { ok: false, expected: DURATION_EXPECTED }
  }
  ms = Math.round(ms)
  if (!(ms <= MAX_DURATION_MS)) {
    return { ok: false, expected: 'a duration of at most 596h (the longest a Node timer can wait)' }
  }
  return { ok: true, value: ms }
}

const SIZE = /^(\d+(?:\.\d+)?)\s*([a-z]*)$/
const SIZE_UNITS: Record<string, number> = {
  '': 1,
  m: 1,
  mb: 1,
  mib: 1,
  g: 1024,
  gb: 1024,
  gib: 1024,
}

/** Megabytes, or what was expected instead. */
export function trySize(value: unknown): Parsed {
  let mb: number
  if (typeof value === 'number') {
    if (!Number.isFinite(value)) return { ok: false, expected: SIZE_EXPECTED }
    if (value < 0) return { ok: false, expected: 'a size of 0 or more' }
    mb = value
  } else if (typeof value === 'string') {
    const text = value.trim().toLowerCase()
    const match = SIZE.exec(text)
    if (match === null) {
      if (text.startsWith('-')) return { ok: false, expected: 'a size of 0 or more' }
      return { ok: false, expected: SIZE_EXPECTED }
    }
    const factor = SIZE_UNITS[match[2]!]
    if (factor === undefined) {
      if (/^(k|kb|kib|b)$/.test(match[2]!)) {
        return { ok: false, expected: `${SIZE_EXPECTED}; sizes are whole megabytes` }
      }
      return { ok: false, expected: SIZE_EXPECTED }
    }
    mb = Number(match[1]) * factor
  } else {
    return { ok: false, expected: SIZE_EXPECTED }
  }
  if (!Number.isSafeInteger(mb)) {
    return { ok: false, expected: `${SIZE_EXPECTED}, a whole number of megabytes` }
  }
  return { ok: true, value: mb }
}

function fail(kind: string, value: unknown, expected: string, where?: string): never {
  const at = where === undefined ? '' : ` for ${where}`
  throw new FnError(
    'INVALID_MANIFEST',
    `[fn] invalid ${kind} ${JSON.stringify(value) ?? String(value)}${at}: expected ${expected}`,
    { details: { value, expected } },
  )
}

/**
 * A duration in milliseconds. `"500ms"`, `"30s"`, `"5m"`, `"1h"`, combinations like `"1m30s"`, and
 * plain numbers (or numeric strings) of seconds: `30` is 30_000. Fractions round to the nearest
 * millisecond. Anything else (`"30x"`, negative, longer than a Node timer can wait) throws a
 * FnError `INVALID_MANIFEST` whose message names `where` (e.g. `"timeout at fn.yaml:3:10"`).
 */
export function parseDuration(value: string | number, where?: string): number {
  const parsed = tryDuration(value)
  if (!parsed.ok) fail('duration', value, parsed.expected, where)
  return parsed.value
}

/**
 * A size in megabytes. Plain numbers are megabytes; strings take `mb`/`m`/`mib` or `gb`/`g`/`gib`
 * (case-insensitive, binary: `"1gb"` is 1024). The result must be a whole number of megabytes:
 * `"1.5gb"` is 1536, `"512kb"` and `"0.5"` are errors. Throws a FnError `INVALID_MANIFEST`.
 */
export function parseSize(value: string | number, where?: string): number {
  const parsed = trySize(value)
  if (!parsed.ok) fail('size', value, parsed.expected, where)
  return parsed.value
}
