import { Buffer, isUtf8 } from 'node:buffer'
import { ErrorCode, FnError } from './errors'
import { type Frame, PROTOCOL_VERSION, parseFrame, type ResultFrame } from './frames'
import { excerpt } from './issues'

const NEWLINE = 0x0a
const MiB = 1024 * 1024
const SKIP: unique symbol = Symbol('skip')
const encoder = new TextEncoder()

export interface DecoderOptions {
  /** The largest line (frame) accepted, in bytes without its newline. Default 64 MiB. */
  maxLineBytes?: number
}

export interface FrameDecoderOptions extends DecoderOptions {
  /**
   * Result frames keep their output as the JSON text the worker wrote (`outputJson`) instead of
   * a parsed `output`, so that it can be passed on without a parse and a re-serialisation (and
   * integers beyond 2^53 stay exact). Needs `output` to be the frame's last key, as every fn
   * shim writes it; other result frames are parsed as usual. Default false.
   */
  rawOutput?: boolean
}

/**
 * One frame as one NDJSON line. JSON.stringify escapes every newline inside strings, so the
 * only '\n' is the last character.
 */
export function encodeFrame(frame: Frame): string {
  return JSON.stringify(frame) + '\n'
}

function concat(parts: Uint8Array[], size: number): Uint8Array {
  if (parts.length === 1) return parts[0]!
  const out = new Uint8Array(size)
  let offset = 0
  for (const part of parts) {
    out.set(part, offset)
    offset += part.length
  }
  return out
}

function isBlank(bytes: Uint8Array): boolean {
  return bytes.every((byte) => byte === 0x20 || byte === 0x09 || byte === 0x0d || byte === NEWLINE)
}

/**
 * Splits a byte stream into lines and decodes each with `parse(JSON.parse(line))`. Linear in its
 * input: each byte is scanned for '\n' once, and a line is joined and decoded once, when its
 * newline arrives.
 */
class LineDecoder<T> {
  readonly #parse: (value: unknown) => T
  readonly #raw: ((text: string) => T | undefined) | undefined
  readonly #maxLineBytes: number
  /** The unfinished line, in pieces, in arrival order. */
  #line: Uint8Array[] = []
  #lineBytes = 0
  /** Inside a line that was too long: drop bytes up to its newline. */
  #discarding = false
  /** Input not scanned yet: what followed a bad line in the chunk that carried it. */
  #backlog: Uint8Array[] = []
  /** Values decoded before an error in the same call, returned by the next call. */
  #carry: T[] = []
  /** A high surrogate that ended the previous string chunk: its pair comes next. */
  #surrogate = ''

  constructor(
    parse: (value: unknown) => T,
    options: DecoderOptions = {},
    raw?: (text: string) => T | undefined,
  ) {
    this.#parse = parse
    this.#raw = raw
    this.#maxLineBytes = options.maxLineBytes ?? 64 * MiB
  }

  /** Bytes held that did not make a complete line yet. */
  get bufferedBytes(): number {
    let size = this.#lineBytes + this.#surrogate.length
    for (const bytes of this.#backlog) size += bytes.length
    return size
  }

  /**
   * Feed the next chunk; returns every value completed by it. Throws FnError OUTPUT_LIMIT (line
   * too long) or PROTOCOL_ERROR (not UTF-8, not JSON, or refused by the parser). After a throw
   * only the bad line is lost: the values before it and the input after it come out of the next
   * call (an empty chunk will do).
   */
  push(chunk: Uint8Array | string): T[] {
    this.#backlog.push(this.#bytes(chunk))
    const out = this.#carry
    this.#carry = []
    for (let bytes = this.#backlog.shift(); bytes; bytes = this.#backlog.shift()) {
      let start = 0
      try {
        for (let nl = bytes.indexOf(NEWLINE); nl !== -1; nl = bytes.indexOf(NEWLINE, start)) {
          const part = bytes.subarray(start, nl)
          start = nl + 1
          const value = this.#endLine(part)
          if (value !== SKIP) out.push(value)
        }
        const rest = bytes.subarray(start)
        start = bytes.length
        this.#append(rest)
      } catch (error) {
        if (start < bytes.length) this.#backlog.unshift(bytes.subarray(start))
        this.#carry = out
        throw error
      }
    }
    return out
  }

  /**
   * The input is complete: returns what an earlier throw left over. Throws FnError
   * PROTOCOL_ERROR when the input stopped inside a line (or a left-over line is bad). Either way
   * the decoder is empty afterwards.
   */
  end(): T[] {
    try {
      const out = this.push('')
      const size = this.#lineBytes + this.#surrogate.length
      const line = concat(this.#line, this.#lineBytes)
      if (size > 0 && !isBlank(line)) {
        const text = new TextDecoder().decode(line.subarray(0, 200))
        throw new FnError(
          ErrorCode.PROTOCOL_ERROR,
          `[fn] truncated frame: the stream ended inside a line, ${size} bytes after the last ` +
            `newline: ${JSON.stringify(excerpt(text))}`,
          { details: { received: size } },
        )
      }
      return out
    } finally {
      this.#line = []
      this.#lineBytes = 0
      this.#discarding = false
      this.#backlog = []
      this.#carry = []
      this.#surrogate = ''
    }
  }

  #bytes(chunk: Uint8Array | string): Uint8Array {
    if (typeof chunk !== 'string') return chunk
    let text = this.#surrogate + chunk
    this.#surrogate = ''
    const last = text.charCodeAt(text.length - 1)
    if (last >= 0xd800 && last <= 0xdbff) {
      this.#surrogate = text.slice(-1)
      text = text.slice(0, -1)
    }
    return encoder.encode(text)
  }

  #tooLong(received: number): FnError {
    const limit = this.#maxLineBytes
    return new FnError(
      ErrorCode.OUTPUT_LIMIT,
      `[fn] frame too large: more than ${limit} bytes without a newline; raise maxLineBytes ` +
        'or send less data per invocation',
      { details: { limit, received } },
    )
  }

  /** Bytes of a line whose newline has not come yet. */
  #append(part: Uint8Array): void {
    if (part.length === 0 || this.#discarding) return
    this.#lineBytes += part.length
    if (this.#lineBytes > this.#maxLineBytes) {
      const received = this.#lineBytes
      this.#line = []
      this.#lineBytes = 0
      this.#discarding = true
      throw this.#tooLong(received)
    }
    this.#line.push(new Uint8Array(part)) // a copy: the caller may reuse its buffer
  }

  /** The last piece of a line: join, decode, parse. */
  #endLine(part: Uint8Array): T | typeof SKIP {
    const size = this.#lineBytes + part.length
    const parts = this.#line
    this.#line = []
    this.#lineBytes = 0
    if (this.#discarding) {
      this.#discarding = false
      return SKIP
    }
    if (size > this.#maxLineBytes) throw this.#tooLong(size)
    parts.push(part)
    const line = concat(parts, size)
    if (isBlank(line)) return SKIP
    // Node's own validation and decoding: several times faster than a fatal TextDecoder.
    if (!isUtf8(line)) {
      throw new FnError(ErrorCode.PROTOCOL_ERROR, '[fn] invalid frame: the line is not UTF-8')
    }
    const text = Buffer.from(line.buffer, line.byteOffset, line.byteLength).toString('utf8')
    const raw = this.#raw?.(text)
    if (raw !== undefined) return raw
    let value: unknown
    try {
      value = JSON.parse(text)
    } catch (cause) {
      throw new FnError(
        ErrorCode.PROTOCOL_ERROR,
        `[fn] invalid frame: not JSON: ${JSON.stringify(excerpt(text))}`,
        { cause, details: { excerpt: excerpt(text) } },
      )
    }
    return this.#parse(value)
  }
}

/**
 * Streaming NDJSON decoder: push chunks of any size, get back the JSON value of every completed
 * line. Empty lines are skipped, '\r\n' line ends are fine.
 */
export class NdjsonDecoder extends LineDecoder<unknown> {
  constructor(options?: DecoderOptions) {
    super((value) => value, options)
  }
}

/** Like NdjsonDecoder, but each line must be a valid frame (see parseFrame()). */
export class FrameDecoder extends LineDecoder<Frame> {
  constructor(options: FrameDecoderOptions = {}) {
    super(parseFrame, options, options.rawOutput ? rawResult : undefined)
  }
}

const RESULT_PREFIX = '{"v":1,"type":"result","id":"'
const OUTPUT_KEY = ',"output":'

/**
 * `{"v":1,"type":"result","id":"<id>","output":<json>}` as an id and the output's text, without
 * parsing the output. Any other shape (other keys, spacing, an escaped id) is left to JSON.parse.
 */
function rawResult(text: string): ResultFrame | undefined {
  if (!text.startsWith(RESULT_PREFIX)) return undefined
  const idEnd = text.indexOf('"', RESULT_PREFIX.length)
  if (idEnd === -1 || !text.startsWith(OUTPUT_KEY, idEnd + 1)) return undefined
  const id = text.slice(RESULT_PREFIX.length, idEnd)
  if (id.includes('\\')) return undefined
  let end = text.length
  while (end > 0 && text.charCodeAt(end - 1) <= 0x20) end--
  if (text.charCodeAt(end - 1) !== 0x7d /* } */) return undefined
  const json = text.slice(idEnd + 1 + OUTPUT_KEY.length, end - 1).trim()
  if (!json) return undefined
  return { v: PROTOCOL_VERSION, type: 'result', id, output: undefined, outputJson: json }
}
