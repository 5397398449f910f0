import { describe, expect, it } from 'vitest'
import { encodeFrame, type FnError, FrameDecoder, NdjsonDecoder } from './index'

const utf8 = new TextEncoder()

function thrown(fn: () => unknown): FnError {
  try {
    fn()
  } catch (error) {
    return error as FnError
  }
  throw new Error('expected a throw')
}

describe('NdjsonDecoder', () => {
  it('decodes many lines in one chunk', () => {
    const decoder = new NdjsonDecoder()
    expect(decoder.push('{"a":1}\n[2]\n"three"\nnull\n4\n')).toEqual([
      { a: 1 },
      [2],
      'three',
      null,
      4,
    ])
    expect(decoder.bufferedBytes).toBe(0)
  })

  it('decodes a line split at every byte, also inside multi-byte characters', () => {
    const text = JSON.stringify({ s: 'aé€👋z', n: [1, 2] })
    const bytes = utf8.encode(`${text}\n`)
    for (let at = 0; at <= bytes.length; at++) {
      const decoder = new NdjsonDecoder()
      const first = decoder.push(bytes.subarray(0, at))
      const second = decoder.push(bytes.subarray(at))
      expect([...first, ...second]).toEqual([JSON.parse(text)])
    }
  })

  it('decodes a stream pushed one byte at a time', () => {
    const bytes = utf8.encode('{"x":"ü"}\n{"y":"🎉"}\n')
    const decoder = new NdjsonDecoder()
    const values = []
    for (let i = 0; i < bytes.length; i++) values.push(...decoder.push(bytes.subarray(i, i + 1)))
    expect(values).toEqual([{ x: 'ü' }, { y: '🎉' }])
  })

  it('takes string chunks, even when a surrogate pair is split between them', () => {
    const decoder = new NdjsonDecoder()
    const line = '{"e":"👋"}\n'
    const split = line.indexOf('👋') + 1 // between the two UTF-16 halves of the emoji
    expect(decoder.push(line.slice(0, split))).toEqual([])
    expect(decoder.push(line.slice(split))).toEqual([{ e: '👋' }])
  })

  it('ignores empty and blank lines and accepts \\r\\n line ends', () => {
    const decoder = new NdjsonDecoder()
    expect(decoder.push('\n\r\n  \n{"a":1}\r\n\n[1]\r\n')).toEqual([{ a: 1 }, [1]])
  })

  it('copies what it keeps: a caller may reuse its buffer', () => {
    const decoder = new NdjsonDecoder()
    const buffer = utf8.encode('{"a":')
    decoder.push(buffer)
    buffer.fill(0x20)
    expect(decoder.push('1}\n')).toEqual([{ a: 1 }])
  })

  it('counts the bytes of the unfinished line', () => {
    const decoder = new NdjsonDecoder()
    decoder.push('{"a":1}\n{"b":')
    expect(decoder.bufferedBytes).toBe(5)
    decoder.push('"é"')
    expect(decoder.bufferedBytes).toBe(9)
    decoder.push('}\n')
    expect(decoder.bufferedBytes).toBe(0)
  })

  it('rejects a line that is not JSON, with an excerpt, and continues with the next line', () => {
    const decoder = new NdjsonDecoder()
    const error = thrown(() => decoder.push('{"ok":1}\nhello world\n{"ok":2}\n'))
    expect(error.code).toBe('PROTOCOL_ERROR')
    expect(error.message).toBe('[fn] invalid frame: not JSON: "hello world"')
    expect(error.details).toEqual({ excerpt: 'hello world' })
    expect(error.cause).toBeInstanceOf(SyntaxError)
    // Nothing but the bad line is lost: the next call returns what came before and after it.
    expect(decoder.push('{"ok":3}\n')).toEqual([{ ok: 1 }, { ok: 2 }, { ok: 3 }])
  })

  it('shortens the excerpt of a long bad line', () => {
    const error = thrown(() => new NdjsonDecoder().push(`${'x'.repeat(10_000)}\n`))
    expect(error.message).toBe(`[fn] invalid frame: not JSON: "${'x'.repeat(60)}…"`)
  })

  it('rejects bytes that are not UTF-8', () => {
    const decoder = new NdjsonDecoder()
    const error = thrown(() => decoder.push(new Uint8Array([0x22, 0xff, 0xfe, 0x22, 0x0a])))
    expect(error.code).toBe('PROTOCOL_ERROR')
    expect(error.message).toBe('[fn] invalid frame: the line is not UTF-8')
    expect(decoder.push('1\n')).toEqual([1])
  })

  it('accepts a line of exactly maxLineBytes', () => {
    const decoder = new NdjsonDecoder({ maxLineBytes: 10 })
    expect(decoder.push('"12345678"\n')).toEqual(['12345678'])
    expect(decoder.push('"1234')).toEqual([])
    expect(decoder.push('5678"\n')).toEqual(['12345678'])
  })

  it('fails with OUTPUT_LIMIT as soon as an unfinished line is too long', () => {
    const decoder = new NdjsonDecoder({ maxLineBytes: 10 })
    expect(decoder.push('"123456')).toEqual([])
    const error = thrown(() => decoder.push('7890'))
    expect(error.code).toBe('OUTPUT_LIMIT')
    expect(error.status).toBe(500)
    expect(error.message).toContain('more than 10 bytes without a newline')
    expect(error.details).toEqual({ limit: 10, received: 11 })
    expect(decoder.bufferedBytes).toBe(0)
    // The rest of the long line is dropped up to its newline; then decoding goes on.
    expect(decoder.push('0123456789'.repeat(5))).toEqual([])
    expect(decoder.bufferedBytes).toBe(0)
    expect(decoder.push('xyz"\n[1]\n')).toEqual([[1]])
  })

  it('fails with OUTPUT_LIMIT for a complete line that is too long, keeping the rest', () => {
    const decoder = new NdjsonDecoder({ maxLineBytes: 10 })
    const error = thrown(() => decoder.push('[1]\n"0123456789"\n[2]\n'))
    expect(error.code).toBe('OUTPUT_LIMIT')
    expect(error.details).toEqual({ limit: 10, received: 12 })
    expect(decoder.push('')).toEqual([[1], [2]])
  })

  it('end() accepts a complete stream and trailing blanks', () => {
    const decoder = new NdjsonDecoder()
    decoder.push('1\n \r')
    expect(decoder.end()).toEqual([])
  })

  it('end() rejects a truncated last line, then starts afresh', () => {
    const decoder = new NdjsonDecoder()
    decoder.push('1\n{"half":')
    const error = thrown(() => decoder.end())
    expect(error.code).toBe('PROTOCOL_ERROR')
    expect(error.message).toBe(
      '[fn] truncated frame: the stream ended inside a line, 8 bytes after the last newline: "{\\"half\\":"',
    )
    expect(decoder.bufferedBytes).toBe(0)
    expect(decoder.push('2\n')).toEqual([2])
  })

  it('end() counts a dangling half of a surrogate pair as truncation', () => {
    const decoder = new NdjsonDecoder()
    decoder.push('"\ud83d')
    expect(thrown(() => decoder.end()).message).toContain('truncated frame')
  })

  it('end() returns what an earlier error left over', () => {
    const decoder = new NdjsonDecoder()
    expect(() => decoder.push('[1]\n{bad\n[2]\n')).toThrow('not JSON')
    expect(decoder.end()).toEqual([[1], [2]])
  })

  it('end() leaves the decoder empty even when a left-over line is bad', () => {
    const decoder = new NdjsonDecoder()
    expect(() => decoder.push('{bad\n{worse\n[1]\n{"half')).toThrow('"{bad"')
    expect(() => decoder.end()).toThrow('"{worse"')
    expect(decoder.bufferedBytes).toBe(0)
    expect(decoder.end()).toEqual([])
  })

  it('decodes a 50 MiB line pushed in 64 KiB chunks in linear work', () => {
    const size = 50 * 1024 * 1024
    const line = utf8.encode(
      encodeFrame({ v: 1, type: 'result', id: 'big', output: 'x'.repeat(size) }),
    )
    const chunk = 64 * 1024
    // Count the bytes scanned for newlines and copied, through the methods the decoder uses.
    const proto = Object.getPrototypeOf(Uint8Array.prototype) as Uint8Array
    const { indexOf, set } = proto
    let scanned = 0
    let copied = 0
    proto.indexOf = function (this: Uint8Array, value: number, from = 0) {
      scanned += this.length - from
      return indexOf.call(this, value, from)
    }
    proto.set = function (this: Uint8Array, source: ArrayLike<number>, offset?: number) {
      copied += source.length
      return set.call(this, source, offset)
    } as typeof set
    const decoder = new FrameDecoder()
    const frames = []
    try {
      for (let at = 0; at < line.length; at += chunk) {
        frames.push(...decoder.push(line.subarray(at, at + chunk)))
      }
    } finally {
      proto.indexOf = indexOf
      proto.set = set
    }
    expect(frames).toHaveLength(1)
    expect(frames[0]).toMatchObject({ type: 'result', id: 'big' })
    expect((frames[0] as { output: string }).output.length).toBe(size)
    // Each byte is scanned once and joined once (a quadratic decoder would be at ~20 GB here).
    expect(scanned).toBe(line.length)
    expect(copied).toBeGreaterThan(0)
    expect(copied).toBeLessThanOrEqual(line.length)
  })
})

describe('FrameDecoder', () => {
  it('returns validated frames', () => {
    const decoder = new FrameDecoder()
    const text =
      encodeFrame({ v: 1, type: 'ready', pid: 7 }) +
      encodeFrame({ v: 1, type: 'result', id: 'a', output: [1] })
    expect(decoder.push(text)).toEqual([
      { v: 1, type: 'ready', pid: 7 },
      { v: 1, type: 'result', id: 'a', output: [1] },
    ])
  })

  it('rejects a line that is JSON but not a frame, and goes on', () => {
    const decoder = new FrameDecoder()
    const error = thrown(() => decoder.push('{"v":1,"type":"nope"}\n{"v":1,"type":"shutdown"}\n'))
    expect(error.code).toBe('PROTOCOL_ERROR')
    expect(error.message).toContain('[fn] invalid frame: type: expected (')
    expect(decoder.push('')).toEqual([{ v: 1, type: 'shutdown' }])
  })

  it('rejects a frame of another protocol version', () => {
    const error = thrown(() => new FrameDecoder().push('{"v":2,"type":"ready"}\n'))
    expect(error.message).toContain('supports protocol version 1')
  })

  it('honors maxLineBytes', () => {
    const decoder = new FrameDecoder({ maxLineBytes: 16 })
    expect(thrown(() => decoder.push(encodeFrame({ v: 1, type: 'shutdown' }))).code).toBe(
      'OUTPUT_LIMIT',
    )
  })
})

describe('FrameDecoder({ rawOutput: true })', () => {
  it("keeps a result's output as the text the worker wrote, exact beyond 2^53", () => {
    const decoder = new FrameDecoder({ rawOutput: true })
    const [frame] = decoder.push(
      '{"v":1,"type":"result","id":"7","output":{"n":18446744073709551617}}\n',
    )
    expect(frame).toEqual({
      v: 1,
      type: 'result',
      id: '7',
      output: undefined,
      outputJson: '{"n":18446744073709551617}',
    })
  })

  it('parses every other shape as usual: other keys last, spacing, logs', () => {
    const decoder = new FrameDecoder({ rawOutput: true })
    const frames = decoder.push(
      '{"v":1,"type":"result","output":1,"id":"a"}\n' +
        '{"v": 1, "type": "result", "id": "b", "output": 2}\n' +
        '{"v":1,"type":"log","id":"c","level":"info","message":"m","timestamp":"t"}\n',
    )
    expect(
      frames.map((f) => (f.type === 'result' ? [f.id, f.output, f.outputJson] : f.type)),
    ).toEqual([['a', 1, undefined], ['b', 2, undefined], 'log'])
  })
})
