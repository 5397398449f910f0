import * as v from 'valibot'
import { describe, expect, it } from 'vitest'
import {
  AuthSchema,
  ErrorBodySchema,
  type FnError,
  type FnRequest,
  LogEntrySchema,
  parseRequest,
  RequestContextSchema,
  ResponseSchema,
} from './index'

const request: FnRequest = {
  request_id: 'r1',
  function: 'hello',
  input: { name: 'Ada' },
  context: {
    auth: { user_id: 'u1', token: 't', roles: ['admin'], tenant: 7 },
    env: { GREETING: 'hi' },
    host_url: 'http://localhost:3000',
    internal_token: 'secret',
  },
}

function failure(raw: unknown): FnError {
  try {
    parseRequest(raw)
  } catch (error) {
    return error as FnError
  }
  throw new Error('parseRequest accepted an invalid request')
}

describe('parseRequest', () => {
  it('accepts a full request unchanged', () => {
    expect(parseRequest(request)).toEqual(request)
  })

  it('accepts the smallest request: any input, empty context', () => {
    for (const input of [null, 0, 'text', [1, 2], { a: { b: [] } }]) {
      const minimal = { request_id: 'r', function: 'f', input, context: {} }
      expect(parseRequest(minimal)).toEqual(minimal)
    }
  })

  it('accepts auth: null and drops unknown keys', () => {
    const raw = { ...request, extra: 1, context: { auth: null, other: true } }
    expect(parseRequest(raw)).toEqual({ ...request, context: { auth: null } })
  })

  it('passes any auth object through (auth is open)', () => {
    const auth = { user_id: 42, roles: 'admin', nested: { x: [1] } }
    expect(parseRequest({ ...request, context: { auth } }).context.auth).toEqual(auth)
  })

  it.each([
    [null, 'INVALID_INPUT', '(root): expected an object, received null'],
    [[request], 'INVALID_INPUT', '(root): expected an object, received array'],
    [{ ...request, request_id: 5 }, 'INVALID_INPUT', 'request_id: expected string, received 5'],
    [{ ...request, function: undefined }, 'INVALID_INPUT', 'function: missing'],
    [{ request_id: 'r', function: 'f', context: {} }, 'INVALID_INPUT', 'input: missing'],
    [{ ...request, context: undefined }, 'INVALID_INPUT', 'context: missing'],
    [{ ...request, context: [] }, 'INVALID_INPUT', 'context: expected an object, received array'],
    [
      { ...request, context: { auth: 'token' } },
      'INVALID_INPUT',
      'context.auth: expected an object, received string',
    ],
    [
      { ...request, context: { auth: ['a'] } },
      'INVALID_INPUT',
      'context.auth: expected an object, received array',
    ],
    [
      { ...request, context: { env: { PORT: 80 } } },
      'INVALID_INPUT',
      'context.env.PORT: expected string, received 80',
    ],
    [
      { ...request, context: { env: ['A=1'] } },
      'INVALID_INPUT',
      'context.env: expected an object, received array',
    ],
    [
      { ...request, context: { host_url: 1 } },
      'INVALID_INPUT',
      'context.host_url: expected string, received 1',
    ],
    [
      { ...request, context: { internal_token: false } },
      'INVALID_INPUT',
      'context.internal_token: expected string, received false',
    ],
  ])('rejects %j', (raw, code, reason) => {
    const error = failure(raw)
    expect(error.code).toBe(code)
    expect(error.message).toBe(`[fn] invalid request: ${reason}`)
  })

  it('names every bad field, up to three in the message and all in details', () => {
    const error = failure({
      request_id: 1,
      function: 2,
      input: null,
      context: { env: [], host_url: 3 },
    })
    expect(error.message).toBe(
      '[fn] invalid request: request_id: expected string, received 1; function: expected string, ' +
        'received 2; context.env: expected an object, received array (and 1 more)',
    )
    expect(error.details).toEqual({
      issues: [
        { path: 'request_id', problem: 'expected string, received 1' },
        { path: 'function', problem: 'expected string, received 2' },
        { path: 'context.env', problem: 'expected an object, received array' },
        { path: 'context.host_url', problem: 'expected string, received 3' },
      ],
    })
  })

  it('keeps messages short when a bad value is huge', () => {
    const error = failure({ ...request, function: ['x'.repeat(100_000)] })
    expect(error.message).toBe('[fn] invalid request: function: expected string, received Array')
    const long = failure({ ...request, request_id: { toString: 'x'.repeat(1000) } })
    expect(long.message.length).toBeLessThan(200)
  })
})

describe('schemas', () => {
  it('AuthSchema takes any object and refuses anything else', () => {
    expect(v.is(AuthSchema, {})).toBe(true)
    expect(v.is(AuthSchema, { user_id: 'u', anything: [1] })).toBe(true)
    for (const bad of [null, [], 'u1', 1]) expect(v.is(AuthSchema, bad)).toBe(false)
  })

  it('RequestContextSchema: all fields optional, env values are strings', () => {
    expect(v.parse(RequestContextSchema, {})).toEqual({})
    expect(v.is(RequestContextSchema, { env: { A: '1' } })).toBe(true)
    expect(v.is(RequestContextSchema, { env: { A: 1 } })).toBe(false)
    expect(v.is(RequestContextSchema, { auth: undefined })).toBe(true)
  })

  it('ErrorBodySchema: code and message strings, details anything', () => {
    expect(v.parse(ErrorBodySchema, { code: 'X', message: 'm', details: [1], more: 1 })).toEqual({
      code: 'X',
      message: 'm',
      details: [1],
    })
    expect(v.is(ErrorBodySchema, { code: 'X' })).toBe(false)
    expect(v.is(ErrorBodySchema, { code: 1, message: 'm' })).toBe(false)
    expect(v.is(ErrorBodySchema, 'boom')).toBe(false)
  })

  it('LogEntrySchema: the four levels only, timestamp required', () => {
    const entry = { level: 'warn', message: 'm', timestamp: '2024-05-01T12:00:00.000Z' }
    expect(v.parse(LogEntrySchema, { ...entry, data: { a: 1 } })).toEqual({
      ...entry,
      data: { a: 1 },
    })
    for (const level of ['debug', 'info', 'warn', 'error']) {
      expect(v.is(LogEntrySchema, { ...entry, level })).toBe(true)
    }
    expect(v.is(LogEntrySchema, { ...entry, level: 'warning' })).toBe(false)
    expect(v.is(LogEntrySchema, { level: 'info', message: 'm' })).toBe(false)
  })

  it('ResponseSchema: the canonical response only', () => {
    const response = {
      request_id: 'r',
      success: true,
      output: 1,
      logs: [],
      duration_ms: 3,
      cold: true,
      queue_ms: 0,
      run_ms: 2.5,
    }
    expect(v.parse(ResponseSchema, { ...response, extra: 1 })).toEqual(response)
    expect(v.is(ResponseSchema, { ...response, logs: undefined })).toBe(false)
    expect(v.is(ResponseSchema, { ...response, error: 'boom' })).toBe(false)
    expect(v.is(ResponseSchema, { ...response, duration_ms: -1 })).toBe(false)
    expect(v.is(ResponseSchema, { ...response, success: 'yes' })).toBe(false)
    expect(
      v.is(ResponseSchema, { ...response, success: false, error: { code: 'X', message: 'm' } }),
    ).toBe(true)
  })
})
