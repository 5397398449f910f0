import type { FnErrorBody } from './wire'

/**
 * Every outcome an invocation can end in, apart from success. A function may also fail with a
 * code of its own (any other string); that is reported as a function error (HTTP 500).
 */
export const ErrorCode = {
  FUNCTION_NOT_FOUND: 'FUNCTION_NOT_FOUND',
  INVALID_INPUT: 'INVALID_INPUT',
  INVALID_MANIFEST: 'INVALID_MANIFEST',
  PAYLOAD_TOO_LARGE: 'PAYLOAD_TOO_LARGE',
  RUNTIME_NOT_AVAILABLE: 'RUNTIME_NOT_AVAILABLE',
  BUILD_FAILED: 'BUILD_FAILED',
  TIMEOUT: 'TIMEOUT',
  MEMORY_LIMIT: 'MEMORY_LIMIT',
  OUTPUT_LIMIT: 'OUTPUT_LIMIT',
  CRASHED: 'CRASHED',
  PROTOCOL_ERROR: 'PROTOCOL_ERROR',
  BUSY: 'BUSY',
  CANCELLED: 'CANCELLED',
  FUNCTION_ERROR: 'FUNCTION_ERROR',
} as const

export type ErrorCode = (typeof ErrorCode)[keyof typeof ErrorCode]

/** The HTTP status each error code is answered with. */
export const ERROR_STATUS: Record<ErrorCode, number> = {
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
}

/** The HTTP status for an error code; a function's own code is a function error (500). */
export function httpStatus(code: string): number {
  return Object.hasOwn(ERROR_STATUS, code) ? ERROR_STATUS[code as ErrorCode] : 500
}

const BRAND = Symbol.for('fn.error')

export interface FnErrorOptions {
  /** The underlying error, kept as the standard `cause`. */
  cause?: unknown
  /** Structured, JSON-serializable facts about the error; sent on the wire as `details`. */
  details?: unknown
}

/** The one error type of fn. Its `code` tells outcomes apart; `toJSON()` is the wire shape. */
export class FnError extends Error {
  override readonly name = 'FnError' as const
  readonly code: ErrorCode | (string & {})
  /** The HTTP status of `code`. */
  readonly status: number
  readonly details: unknown

  constructor(code: ErrorCode | (string & {}), message: string, options: FnErrorOptions = {}) {
    super(message, 'cause' in options ? { cause: options.cause } : undefined)
    this.code = code
    this.status = httpStatus(code)
    this.details = options.details
    Object.defineProperty(this, BRAND, { value: true })
  }

  toJSON(): FnErrorBody {
    const body: FnErrorBody = { code: this.code, message: this.message }
    if (this.details !== undefined) body.details = this.details
    return body
  }
}

/** True for any FnError, also one created by another copy of this package (checks a brand). */
export function isFnError(value: unknown): value is FnError {
  return (
    typeof value === 'object' &&
    value !== null &&
    (value as Record<symbol, unknown>)[BRAND] === true
  )
}
