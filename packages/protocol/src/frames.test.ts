import * as v from 'valibot'
import { describe, expect, it } from 'vitest'
import {
  encodeFrame,
  type FnError,
  type Frame,
  FrameSchema,
  PROTOCOL_VERSION,
  parseFrame,
} from './index'

const request = { request_id: 'r1', function: 'hello', input: { a: 1 }, context: {} }
const T = '2024-05-01T12:00:00.000Z'

const sampleFrames: Frame[] = [
  { v: 1, type: 'ready' },
  { v: 1, type: 'ready', pid: 1234, runtime: 'node 20.19.0' },
  { v: 1, type: 'invoke', id: 'i1', request },
  { v: 1, type: 'invoke', id: 'i2', request, deadline: 1714564800000 },
  { v: 1, type: 'log', id: 'i1', level: 'warn', message: 'careful', timestamp: T },
  { v: 1, type: 'log', id: 'i1', level: 'debug', message: 'x', data: { n: [1] }, timestamp: T },
  { v: 1, type: 'result', id: 'i1', output: { greeting: 'héllo 👋\n' } },
  { v: 1, type: 'result', id: 'i1', output: null },
  { v: 1, type: 'error', id: 'i1', error: { code: 'OUT_OF_STOCK', message: 'none left' } },
  { v: 1, type: 'error', error: { code: 'CRASHED', message: 'no module', details: { path: 'x' } } },
  { v: 1, type: 'ready', pid: 7, concurrency: 8 },
  { v: 1, type: 'cancel', id: 'a1' },
  { v: 1, type: 'shutdown' },
]

function failure(raw: unknown): FnError {
  try {
    parseFrame(raw)
  } catch (error) {
    return error as FnError
  }
  throw new Error('parseFrame accepted an invalid frame')
}

describe('parseFrame', () => {
  it('has protocol version 1', () => {
    expect(PROTOCOL_VERSION).toBe(1)
  })

  it.each(sampleFrames)('accepts %j unchanged', (frame) => {
    expect(parseFrame(frame)).toEqual(frame)
    expect(v.is(FrameSchema, frame)).toBe(true)
  })

  it('reads a result without output as output: null (JSON drops undefined)', () => {
    const encoded = JSON.parse(JSON.stringify({ v: 1, type: 'result', id: 'i', output: undefined }))
    expect(parseFrame(encoded)).toEqual({ v: 1, type: 'result', id: 'i', output: null })
  })

  it('drops unknown keys so that newer peers can add fields', () => {
    expect(parseFrame({ v: 1, type: 'shutdown', reason: 'idle' })).toEqual({
      v: 1,
      type: 'shutdown',
    })
  })

  it('rejects another protocol version and says which one is supported', () => {
    const error = failure({ v: 2, type: 'ready' })
    expect(error.code).toBe('PROTOCOL_ERROR')
    expect(error.message).toBe(
      '[fn] unsupported frame: it has version 2, this side supports protocol version 1 only: ' +
        'use matching versions of fn and its runtime adapters',
    )
    expect(error.details).toEqual({ supported: [1], received: 2 })
    expect(failure({ v: '1', type: 'ready' }).message).toContain('it has version "1"')
    expect(failure({ type: 'ready' }).message).toContain('it has no version field "v"')
  })

  it.each([
    [null, '(root): expected an object, received null'],
    ['ready', '(root): expected an object, received string'],
    [[{ v: 1, type: 'ready' }], '(root): expected an object, received array'],
    [{ v: 1 }, 'type: missing'],
    [
      { v: 1, type: 'hello' },
      'type: expected ("ready" | "invoke" | "log" | "result" | "error" | "cancel" | "shutdown"), received "hello"',
    ],
    [{ v: 1, type: 'ready', pid: 1.5 }, 'pid: expected integer, received 1.5'],
    [{ v: 1, type: 'ready', runtime: 20 }, 'runtime: expected string, received 20'],
    [{ v: 1, type: 'invoke', request }, 'id: missing'],
    [{ v: 1, type: 'invoke', id: 'i' }, 'request: missing'],
    [
      { v: 1, type: 'invoke', id: 'i', request: { ...request, function: 1 } },
      'request.function: expected string, received 1',
    ],
    [
      { v: 1, type: 'invoke', id: 'i', request, deadline: '1' },
      'deadline: expected number, received "1"',
    ],
    [
      { v: 1, type: 'log', id: 'i', level: 'warning', message: 'm', timestamp: T },
      'level: expected ("debug" | "info" | "warn" | "error"), received "warning"',
    ],
    [{ v: 1, type: 'log', id: 'i', level: 'info', timestamp: T }, 'message: missing'],
    [{ v: 1, type: 'log', id: 'i', level: 'info', message: 'm' }, 'timestamp: missing'],
    [{ v: 1, type: 'result', id: 7, output: 1 }, 'id: expected string, received 7'],
    [{ v: 1, type: 'error', id: 'i', error: 'boom' }, 'error: expected an object, received string'],
    [{ v: 1, type: 'error', error: { code: 'X' } }, 'error.message: missing'],
  ])('rejects %j', (raw, reason) => {
    const error = failure(raw)
    expect(error.code).toBe('PROTOCOL_ERROR')
    expect(error.message).toBe(`[fn] invalid frame: ${reason}`)
  })
})

describe('encodeFrame', () => {
  it.each(sampleFrames)('encodes %j as one JSON line', (frame) => {
    const line = encodeFrame(frame)
    expect(line.endsWith('\n')).toBe(true)
    expect(line.indexOf('\n')).toBe(line.length - 1)
    expect(JSON.parse(line)).toEqual(frame)
  })

  it('escapes newlines and separators inside strings', () => {
    const line = encodeFrame({ v: 1, type: 'result', id: 'i', output: 'a\nb\r\nc\u2028d\u001e' })
    expect(line.slice(0, -1)).not.toMatch(/[\n\r\u001e]/)
  })
})
