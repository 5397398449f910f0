import fc from 'fast-check'
import * as v from 'valibot'
import { describe, expect, it } from 'vitest'
import {
  encodeFrame,
  type Frame,
  FrameDecoder,
  isFnError,
  LOG_LEVELS,
  NdjsonDecoder,
  normalizeResponse,
  ResponseSchema,
} from './index'

/** Any string, including every Unicode plane (so 4-byte UTF-8) and lone surrogates. */
const text = fc.string({ unit: 'binary' })
const json = fc.jsonValue()
const id = text
const timestamp = fc.date({ noInvalidDate: true }).map((date) => date.toISOString())
const errorBody = fc.record(
  { code: text, message: text, details: json },
  { requiredKeys: ['code', 'message'] },
)
const request = fc.record({
  request_id: text,
  function: text,
  input: json,
  context: fc.record(
    {
      auth: fc.oneof(fc.constant(null), fc.dictionary(text, json)),
      env: fc.dictionary(fc.stringMatching(/^[A-Z_][A-Z0-9_]{0,8}$/), text),
      host_url: text,
      internal_token: text,
    },
    { requiredKeys: [] },
  ),
})

const frame: fc.Arbitrary<Frame> = fc.oneof(
  fc.record(
    {
      v: fc.constant(1 as const),
      type: fc.constant('ready' as const),
      pid: fc.nat(),
      runtime: text,
    },
    { requiredKeys: ['v', 'type'] },
  ),
  fc.record(
    {
      v: fc.constant(1 as const),
      type: fc.constant('invoke' as const),
      id,
      request,
      deadline: fc.nat(),
    },
    { requiredKeys: ['v', 'type', 'id', 'request'] },
  ),
  fc.record(
    {
      v: fc.constant(1 as const),
      type: fc.constant('log' as const),
      id,
      level: fc.constantFrom(...LOG_LEVELS),
      message: text,
      data: json,
      timestamp,
    },
    { requiredKeys: ['v', 'type', 'id', 'level', 'message', 'timestamp'] },
  ),
  fc.record({ v: fc.constant(1 as const), type: fc.constant('result' as const), id, output: json }),
  fc.record(
    { v: fc.constant(1 as const), type: fc.constant('error' as const), id, error: errorBody },
    { requiredKeys: ['v', 'type', 'error'] },
  ),
  fc.record({ v: fc.constant(1 as const), type: fc.constant('cancel' as const), id: fc.string() }),
  fc.record({ v: fc.constant(1 as const), type: fc.constant('shutdown' as const) }),
)

/** `bytes` cut at arbitrary points (sorted, duplicates give empty chunks). */
function chunked(bytes: Uint8Array, cuts: number[]): Uint8Array[] {
  const points = [
    0,
    ...cuts.map((cut) => cut % (bytes.length + 1)).sort((a, b) => a - b),
    bytes.length,
  ]
  return points.slice(1).map((end, i) => bytes.subarray(points[i], end))
}

function onlyFnErrors(run: () => void): void {
  try {
    run()
  } catch (error) {
    if (!isFnError(error)) throw error
  }
}

describe('properties', () => {
  it('any frames, encoded and cut anywhere, decode to the same frames', () => {
    fc.assert(
      fc.property(
        fc.array(frame, { maxLength: 8 }),
        fc.array(fc.nat(), { maxLength: 20 }),
        (frames, cuts) => {
          const bytes = new TextEncoder().encode(frames.map(encodeFrame).join(''))
          const decoder = new FrameDecoder()
          const decoded = chunked(bytes, cuts).flatMap((chunk) => decoder.push(chunk))
          decoder.end()
          // What JSON can carry: lone surrogates become U+FFFD on the way to UTF-8 bytes.
          const expected = frames.map((f) =>
            JSON.parse(new TextDecoder().decode(new TextEncoder().encode(JSON.stringify(f)))),
          )
          expect(decoded).toEqual(expected)
        },
      ),
      { numRuns: 300 },
    )
  })

  it('arbitrary bytes in arbitrary chunks never throw anything but FnError', () => {
    const piece = fc.oneof(
      fc.uint8Array({ maxLength: 40 }),
      fc.constant(new Uint8Array([0x0a])),
      json.map((value) => new TextEncoder().encode(`${JSON.stringify(value)}\n`)),
      frame.map((f) => new TextEncoder().encode(encodeFrame(f))),
    )
    fc.assert(
      fc.property(
        fc.array(piece, { maxLength: 12 }),
        fc.array(fc.nat(), { maxLength: 12 }),
        fc.integer({ min: 1, max: 300 }),
        fc.boolean(),
        (pieces, cuts, maxLineBytes, frames) => {
          const bytes = new Uint8Array(pieces.flatMap((p) => [...p]))
          const decoder = frames
            ? new FrameDecoder({ maxLineBytes })
            : new NdjsonDecoder({ maxLineBytes })
          for (const chunk of chunked(bytes, cuts)) onlyFnErrors(() => decoder.push(chunk))
          onlyFnErrors(() => decoder.end())
          expect(decoder.bufferedBytes).toBe(0)
        },
      ),
      { numRuns: 500 },
    )
  })

  it('normalizeResponse on any JSON value returns a canonical response or throws FnError', () => {
    const loose = fc.oneof(json, text, fc.boolean(), fc.double())
    const responseLike = fc.record(
      {
        request_id: fc.oneof(text, loose),
        success: fc.oneof(fc.boolean(), loose),
        output: json,
        error: fc.oneof(text, errorBody, loose),
        error_code: fc.oneof(text, loose),
        logs: fc.oneof(
          fc.array(
            fc.oneof(
              loose,
              fc.record(
                { level: loose, message: loose, timestamp: loose, data: loose },
                { requiredKeys: [] },
              ),
            ),
          ),
          loose,
        ),
        duration_ms: fc.oneof(fc.nat(), loose),
        cold: fc.oneof(fc.boolean(), loose),
        queue_ms: fc.oneof(fc.nat(), loose),
        run_ms: fc.oneof(fc.nat(), loose),
      },
      { requiredKeys: [] },
    )
    fc.assert(
      fc.property(fc.oneof(json, responseLike), fc.boolean(), (raw, withFallback) => {
        try {
          const response = normalizeResponse(
            raw,
            withFallback ? { request_id: 'r', duration_ms: 1 } : {},
          )
          expect(v.is(ResponseSchema, response)).toBe(true)
          expect(response.success).toBe(response.error === undefined)
        } catch (error) {
          if (!isFnError(error)) throw error
          expect(error.code).toBe('PROTOCOL_ERROR')
        }
      }),
      { numRuns: 1000 },
    )
  })
})
