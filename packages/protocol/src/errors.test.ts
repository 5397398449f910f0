import { describe, expect, it } from 'vitest'
import { ERROR_STATUS, ErrorCode, FnError, httpStatus, isFnError } from './index'

describe('ErrorCode and ERROR_STATUS', () => {
  it('maps every code to the status DESIGN.md gives it', () => {
    expect(ERROR_STATUS).toEqual({
      FUNCTION_NOT_FOUND: 404,
      INVALID_INPUT: 400,
      PAYLOAD_TOO_LARGE: 413,
      BUSY: 429,
      CANCELLED: 499,
      FUNCTION_ERROR: 500,
      MEMORY_LIMIT: 500,
      OUTPUT_LIMIT: 500,
      CRASHED: 500,
      PROTOCOL_ERROR: 502,
      RUNTIME_NOT_AVAILABLE: 503,
      BUILD_FAILED: 503,
      INVALID_MANIFEST: 503,
      TIMEOUT: 504,
    })
  })

  it('has a status for every code, and each code is its own name', () => {
    for (const [key, code] of Object.entries(ErrorCode)) {
      expect(code).toBe(key)
      expect(ERROR_STATUS[code]).toBeTypeOf('number')
    }
    expect(Object.keys(ERROR_STATUS).sort()).toEqual(Object.keys(ErrorCode).sort())
  })

  it('httpStatus() treats a function-defined code as a function error', () => {
    expect(httpStatus('TIMEOUT')).toBe(504)
    expect(httpStatus('NOT_ENOUGH_COFFEE')).toBe(500)
    expect(httpStatus('toString')).toBe(500)
    expect(httpStatus('__proto__')).toBe(500)
  })
})

describe('FnError', () => {
  it('carries code, status, message, details and cause', () => {
    const cause = new Error('low level')
    const error = new FnError('TIMEOUT', '[fn] too slow', { cause, details: { ms: 30 } })
    expect(error).toBeInstanceOf(Error)
    expect(error.name).toBe('FnError')
    expect(error.code).toBe('TIMEOUT')
    expect(error.status).toBe(504)
    expect(error.message).toBe('[fn] too slow')
    expect(error.details).toEqual({ ms: 30 })
    expect(error.cause).toBe(cause)
    expect(String(error)).toBe('FnError: [fn] too slow')
  })

  it('accepts a custom code (status 500) and has no cause unless given', () => {
    const error = new FnError('OUT_OF_STOCK', 'no more')
    expect(error.status).toBe(500)
    expect('cause' in error).toBe(false)
    expect(error.details).toBeUndefined()
  })

  it('keeps an explicitly undefined cause as given', () => {
    expect('cause' in new FnError('CRASHED', 'x', { cause: undefined })).toBe(true)
  })

  it('toJSON() is the wire shape, without details when there are none', () => {
    expect(new FnError('BUSY', 'full').toJSON()).toEqual({ code: 'BUSY', message: 'full' })
    expect(Object.keys(new FnError('BUSY', 'full').toJSON())).toEqual(['code', 'message'])
    const error = new FnError('BUSY', 'full', { details: { queue: 10 }, cause: new Error('x') })
    expect(JSON.parse(JSON.stringify(error))).toEqual({
      code: 'BUSY',
      message: 'full',
      details: { queue: 10 },
    })
  })
})

describe('isFnError', () => {
  it('recognizes FnErrors and nothing else', () => {
    expect(isFnError(new FnError('CRASHED', 'x'))).toBe(true)
    expect(isFnError(new Error('x'))).toBe(false)
    expect(isFnError({ name: 'FnError', code: 'CRASHED', message: 'x' })).toBe(false)
    expect(isFnError(null)).toBe(false)
    expect(isFnError(undefined)).toBe(false)
    expect(isFnError('FnError')).toBe(false)
  })

  it('works across package copies (brand, not instanceof)', () => {
    // What another copy of @fn/protocol creates: a different class with the same global brand.
    class OtherCopy extends Error {
      constructor() {
        super('x')
        Object.defineProperty(this, Symbol.for('fn.error'), { value: true })
      }
    }
    const foreign = new OtherCopy()
    expect(foreign instanceof FnError).toBe(false)
    expect(isFnError(foreign)).toBe(true)
  })

  it('the brand is not enumerable and does not show up in JSON', () => {
    const error = new FnError('CRASHED', 'x')
    const brand = Symbol.for('fn.error')
    expect(Object.getOwnPropertyDescriptor(error, brand)).toMatchObject({ enumerable: false })
    expect(brand in { ...error }).toBe(false)
    expect(JSON.stringify(error)).toBe('{"code":"CRASHED","message":"x"}')
  })
})
