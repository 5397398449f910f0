import { expect, it } from 'vitest'
import { encodeFrame, FrameDecoder, normalizeResponse } from './index'

it('the README example does what it says', () => {
  const line = encodeFrame({ v: 1, type: 'result', id: 'i1', output: { ok: true } })
  const decoder = new FrameDecoder()
  expect(decoder.push(line.slice(0, 10))).toEqual([])
  expect(decoder.push(line.slice(10))).toEqual([
    { v: 1, type: 'result', id: 'i1', output: { ok: true } },
  ])
  expect(
    normalizeResponse(
      { success: false, error: 'out of stock' },
      { request_id: 'r1', duration_ms: 3 },
    ),
  ).toEqual({
    request_id: 'r1',
    success: false,
    error: { code: 'FUNCTION_ERROR', message: 'out of stock' },
    logs: [],
    duration_ms: 3,
  })
})
