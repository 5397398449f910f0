import { isFnError } from '@fn/protocol'
import { describe, expect, it } from 'vitest'
import { MAX_DURATION_MS, parseDuration, parseSize } from './units'

describe('parseDuration', () => {
  it.each([
    ['500ms', 500],
    ['30s', 30_000],
    ['5m', 300_000],
    ['1h', 3_600_000],
    ['1h30m', 5_400_000],
    ['1m 30s', 90_000],
    ['1s500ms', 1500],
    ['0.5s', 500],
    [' 30S ', 30_000],
    ['30', 30_000],
    ['1.5', 1500],
    ['0', 0],
    ['0.0004s', 0],
    [30, 30_000],
    [0.25, 250],
    [0, 0],
  ] as const)('%j is %i ms', (input, ms) => {
    expect(parseDuration(input)).toBe(ms)
  })

  it.each(['30x', '', 'ms', '5 minutes', '1h-5m', '1.s', '.5s', 's30', '30s!'])(
    'rejects %j with a FnError naming it and the accepted forms',
    (input) => {
      const error = catchError(() => parseDuration(input, 'timeout at fn.yaml:3:10'))
      expect(isFnError(error)).toBe(true)
      expect(error).toMatchObject({ code: 'INVALID_MANIFEST' })
      expect((error as Error).message).toBe(
        `[fn] invalid duration ${JSON.stringify(input)} for timeout at fn.yaml:3:10: expected a duration like "500ms", "30s", "5m" or "1h30m" (units ms, s, m, h; a plain number means seconds)`,
      )
    },
  )

  it('rejects negative values', () => {
    expect(() => parseDuration(-1)).toThrow(
      '[fn] invalid duration -1: expected a duration of 0 or more',
    )
    expect(() => parseDuration('-5s')).toThrow(
      '[fn] invalid duration "-5s": expected a duration of 0 or more',
    )
  })

  it('rejects non-finite numbers and anything longer than a Node timer can wait', () => {
    expect(() => parseDuration(Number.NaN)).toThrow('invalid duration')
    expect(() => parseDuration(Number.POSITIVE_INFINITY)).toThrow('invalid duration')
    expect(parseDuration(`${MAX_DURATION_MS}ms`)).toBe(MAX_DURATION_MS)
    expect(() => parseDuration(`${MAX_DURATION_MS + 1}ms`)).toThrow(
      'expected a duration of at most 596h (the longest a Node timer can wait)',
    )
    expect(() => parseDuration('700h')).toThrow('at most 596h')
  })

  it('rejects values of other types even when called from untyped code', () => {
    expect(() => parseDuration(true as unknown as string)).toThrow('[fn] invalid duration true')
  })
})

describe('parseSize', () => {
  it.each([
    [128, 128],
    ['128', 128],
    ['256mb', 256],
    ['256MB', 256],
    ['256 mb', 256],
    ['256m', 256],
    ['256MiB', 256],
    ['1gb', 1024],
    ['1G', 1024],
    ['2gib', 2048],
    ['1.5gb', 1536],
    [0, 0],
  ] as const)('%j is %i MB', (input, mb) => {
    expect(parseSize(input)).toBe(mb)
  })

  it.each(['lots', '1tb', '', 'mb', '1 2mb'])('rejects %j', (input) => {
    expect(() => parseSize(input, 'memory')).toThrow(
      `[fn] invalid size ${JSON.stringify(input)} for memory: expected a size in megabytes like 128, "256mb" or "1gb" (units mb, gb; a plain number means megabytes)`,
    )
  })

  it('rejects kilobytes and fractions of a megabyte: sizes are whole megabytes', () => {
    expect(() => parseSize('512kb')).toThrow('; sizes are whole megabytes')
    expect(() => parseSize('512k')).toThrow('; sizes are whole megabytes')
    expect(() => parseSize(0.5)).toThrow(', a whole number of megabytes')
    expect(() => parseSize('1.3gb')).toThrow(', a whole number of megabytes')
  })

  it('rejects negative and non-finite sizes', () => {
    expect(() => parseSize(-1)).toThrow('expected a size of 0 or more')
    expect(() => parseSize('-1mb')).toThrow('expected a size of 0 or more')
    expect(() => parseSize(Number.POSITIVE_INFINITY)).toThrow('invalid size')
  })
})

function catchError(fn: () => unknown): unknown {
  try {
    fn()
  } catch (error) {
    return error
  }
  throw new Error('expected an error')
}
