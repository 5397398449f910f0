import * as v from 'valibot'
import { describe, expect, it } from 'vitest'
import { type FnError, normalizeResponse, ResponseSchema } from './index'

const T = '2024-05-01T12:00:00.000Z'
const base = { request_id: 'r1', duration_ms: 12 }

function failure(raw: unknown, fallback?: { request_id?: string; duration_ms?: number }): FnError {
  try {
    normalizeResponse(raw, fallback)
  } catch (error) {
    return error as FnError
  }
  throw new Error('normalizeResponse accepted a non-response')
}

describe('normalizeResponse: accepted variants', () => {
  it('returns a canonical response unchanged', () => {
    const response = {
      ...base,
      success: true,
      output: { a: 1 },
      logs: [{ level: 'info' as const, message: 'hi', data: [1], timestamp: T }],
      cold: false,
      queue_ms: 1,
      run_ms: 10,
    }
    expect(normalizeResponse(response)).toEqual(response)
  })

  it('turns a bare string error into { code: FUNCTION_ERROR, message }', () => {
    expect(normalizeResponse({ ...base, success: false, error: 'boom' })).toEqual({
      ...base,
      success: false,
      error: { code: 'FUNCTION_ERROR', message: 'boom' },
      logs: [],
    })
  })

  it('takes the code of a bare string error from error_code', () => {
    const raw = { ...base, success: false, error: 'no stock', error_code: 'OUT_OF_STOCK' }
    expect(normalizeResponse(raw).error).toEqual({ code: 'OUT_OF_STOCK', message: 'no stock' })
  })

  it('uses error_code for an error object without a code, and error.code over error_code', () => {
    const noCode = {
      ...base,
      success: false,
      error: { message: 'm', details: { n: 1 } },
      error_code: 'E',
    }
    expect(normalizeResponse(noCode).error).toEqual({ code: 'E', message: 'm', details: { n: 1 } })
    const both = { ...base, success: false, error: { code: 'OWN', message: 'm' }, error_code: 'E' }
    expect(normalizeResponse(both).error).toEqual({ code: 'OWN', message: 'm' })
  })

  it('gives an error object without a message one that names the code', () => {
    const raw = { ...base, success: false, error: { code: 'OUT_OF_STOCK' } }
    expect(normalizeResponse(raw).error).toEqual({
      code: 'OUT_OF_STOCK',
      message: 'function failed with OUT_OF_STOCK',
    })
  })

  it('gives success: false without any error a FUNCTION_ERROR (or error_code)', () => {
    expect(normalizeResponse({ ...base, success: false }).error).toEqual({
      code: 'FUNCTION_ERROR',
      message: '[fn] the function reported failure without an error message',
    })
    expect(normalizeResponse({ ...base, success: false, error_code: 'E' }).error?.code).toBe('E')
  })

  it('infers success when it is missing', () => {
    expect(normalizeResponse({ ...base, error: 'boom' }).success).toBe(false)
    expect(normalizeResponse({ ...base, error_code: 'E' }).success).toBe(false)
    expect(normalizeResponse({ ...base, output: 1 }).success).toBe(true)
    expect(normalizeResponse({ ...base, output: null }).success).toBe(true)
    expect(normalizeResponse({ ...base, output: 1, success: null }).success).toBe(true)
  })

  it('treats null error, error_code and logs as absent', () => {
    const raw = { ...base, success: true, output: 1, error: null, error_code: null, logs: null }
    expect(normalizeResponse(raw)).toEqual({ ...base, success: true, output: 1, logs: [] })
  })

  it('keeps output: null and the output of a failed invocation', () => {
    expect(normalizeResponse({ ...base, success: true, output: null })).toHaveProperty(
      'output',
      null,
    )
    expect(normalizeResponse({ ...base, success: false, error: 'x', output: 2 }).output).toBe(2)
    expect(normalizeResponse({ ...base, success: true })).not.toHaveProperty('output')
  })

  it('drops extra fields', () => {
    const raw = { ...base, success: true, output: 1, statusCode: 200, headers: {}, logs: [] }
    expect(Object.keys(normalizeResponse(raw)).sort()).toEqual(
      ['duration_ms', 'logs', 'output', 'request_id', 'success'].sort(),
    )
  })

  it('fills request_id and duration_ms from the fallback, the raw values win', () => {
    const fallback = { request_id: 'from-host', duration_ms: 99 }
    expect(normalizeResponse({ success: true, output: 1 }, fallback)).toMatchObject(fallback)
    expect(normalizeResponse({ ...base, success: true }, fallback)).toMatchObject(base)
  })

  it('normalizes sloppy log entries and never rejects for them', () => {
    const logs = [
      { level: 'WARNING', message: 'a', timestamp: T },
      { level: 'fatal', message: 'b', timestamp: T },
      { level: 'trace', message: 'c', timestamp: T },
      { level: 'shout', message: 'd', timestamp: T },
      { message: 'e', timestamp: T, extra: 1 },
      { level: 'error', msg: 'f', timestamp: T },
      { level: 'info', message: { a: 1 }, timestamp: T },
      { level: 'info', message: 'g', timestamp: 1714564800000 },
      'plain text',
      42,
      null,
      { level: 'debug', timestamp: T, data: null },
    ]
    const result = normalizeResponse({ ...base, success: true, logs })
    expect(result.logs).toEqual([
      { level: 'warn', message: 'a', timestamp: T },
      { level: 'error', message: 'b', timestamp: T },
      { level: 'debug', message: 'c', timestamp: T },
      { level: 'info', message: 'd', timestamp: T },
      { level: 'info', message: 'e', timestamp: T },
      { level: 'error', message: 'f', timestamp: T },
      { level: 'info', message: '{"a":1}', timestamp: T },
      { level: 'info', message: 'g', timestamp: T },
      { level: 'info', message: 'plain text', timestamp: expect.any(String) },
      { level: 'info', message: '42', timestamp: expect.any(String) },
      { level: 'info', message: 'null', timestamp: expect.any(String) },
      { level: 'debug', message: '', timestamp: T, data: null },
    ])
  })

  it('stamps log entries without a timestamp with the current time', () => {
    const before = Date.now()
    const [log] = normalizeResponse({ ...base, success: true, logs: [{ message: 'x' }] }).logs
    const stamped = Date.parse(log!.timestamp)
    expect(log!.timestamp).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/)
    expect(stamped).toBeGreaterThanOrEqual(before - 1)
    expect(stamped).toBeLessThanOrEqual(Date.now() + 1)
  })

  it('always yields something ResponseSchema accepts', () => {
    const raws = [
      { ...base, success: false, error: 'x', logs: ['a', { level: 'nope' }] },
      { success: true, output: [1] },
      { ...base, error: { code: 'C' }, cold: true, queue_ms: 0, run_ms: 1 },
    ]
    for (const raw of raws) {
      expect(
        v.is(ResponseSchema, normalizeResponse(raw, { request_id: 'x', duration_ms: 0 })),
      ).toBe(true)
    }
  })
})

describe('normalizeResponse: rejections', () => {
  it.each([
    [null, '(root): expected an object, received null'],
    ['{"success":true}', '(root): expected an object, received string'],
    [[base], '(root): expected an object, received array'],
    [{ ...base, success: 'true', output: 1 }, 'success: expected a boolean, received string'],
    [{ ...base, success: 1 }, 'success: expected a boolean, received 1'],
    [{ ...base }, 'success: missing, and there is neither an error nor an output'],
    [{ success: true, duration_ms: 1 }, 'request_id: missing'],
    [{ ...base, request_id: 7, success: true }, 'request_id: expected a string, received 7'],
    [{ request_id: 'r', success: true }, 'duration_ms: missing'],
    [
      { ...base, duration_ms: '12', success: true },
      'duration_ms: expected a number >= 0, received string',
    ],
    [
      { ...base, duration_ms: -1, success: true },
      'duration_ms: expected a number >= 0, received -1',
    ],
    [{ ...base, success: false, error: 42 }, 'error: expected a string or an object, received 42'],
    [
      { ...base, success: false, error: ['x'] },
      'error: expected a string or an object, received array',
    ],
    [
      { ...base, success: false, error: { code: 5, message: 'm' } },
      'error.code: expected a string, received 5',
    ],
    [
      { ...base, success: false, error: { message: {} } },
      'error.message: expected a string, received object',
    ],
    [
      { ...base, success: false, error: 'x', error_code: 500 },
      'error_code: expected a string, received 500',
    ],
    [{ ...base, success: true, error: 'boom' }, 'success is true but error is set (boom)'],
    [{ ...base, success: true, logs: 'a line' }, 'logs: expected an array, received string'],
    [{ ...base, success: true, logs: { 0: 'x' } }, 'logs: expected an array, received object'],
    [{ ...base, success: true, cold: 'yes' }, 'cold: expected a boolean, received string'],
    [
      { ...base, success: true, queue_ms: '1' },
      'queue_ms: expected a number >= 0, received string',
    ],
    [{ ...base, success: true, run_ms: -5 }, 'run_ms: expected a number >= 0, received -5'],
  ])('rejects %j', (raw, reason) => {
    const error = failure(raw)
    expect(error.code).toBe('PROTOCOL_ERROR')
    expect(error.status).toBe(502)
    expect(error.message).toBe(`[fn] invalid response: ${reason}`)
  })

  it('rejects NaN durations given by JavaScript callers', () => {
    expect(failure({ ...base, success: true, duration_ms: Number.NaN }).message).toBe(
      '[fn] invalid response: duration_ms: expected a number >= 0, received NaN',
    )
  })

  it('rejects a missing request_id when the fallback has none either', () => {
    expect(failure({ success: true }, { duration_ms: 1 }).message).toBe(
      '[fn] invalid response: request_id: missing',
    )
  })
})
