import * as v from 'valibot'
import { ErrorCode } from './errors'
import { anyObject, jsonObject, parseWith } from './issues'

/**
 * Who is calling, as the host authenticated it. Open: any JSON object is accepted and passed on
 * unchanged. Conventional fields are `user_id`, `token` and `roles`.
 */
export type FnAuth = Record<string, unknown>

/** What the host tells the function besides its input. */
export interface FnRequestContext {
  auth?: FnAuth | null
  /** Environment for the function: only the variables its fn.yaml names. */
  env?: Record<string, string>
  /** Base URL of the host, for functions that call other functions. */
  host_url?: string
  /** Token for calls back into the host. */
  internal_token?: string
}

/** One invocation: what the host sends to a function. */
export interface FnRequest {
  request_id: string
  function: string
  /** Any JSON value (null when there is no input). */
  input: unknown
  context: FnRequestContext
}

/** An error on the wire. `code` is an ErrorCode or a function's own code. */
export interface FnErrorBody {
  code: string
  message: string
  details?: unknown
}

export type LogLevel = 'debug' | 'info' | 'warn' | 'error'

export interface LogEntry {
  level: LogLevel
  message: string
  data?: unknown
  /** ISO 8601, e.g. 2024-05-01T12:00:00.000Z. */
  timestamp: string
}

/** The outcome of one invocation: what a function (or the host on its behalf) answers. */
export interface FnResponse {
  request_id: string
  success: boolean
  output?: unknown
  error?: FnErrorBody
  logs: LogEntry[]
  duration_ms: number
  /** True when a new worker had to start for this invocation. */
  cold?: boolean
  /** Time spent waiting for a free worker. */
  queue_ms?: number
  /** Time the function itself ran. */
  run_ms?: number
}

export const LOG_LEVELS: readonly LogLevel[] = ['debug', 'info', 'warn', 'error']

const milliseconds = v.pipe(v.number(), v.minValue(0))

export const AuthSchema: v.GenericSchema<FnAuth> = anyObject<FnAuth>()

export const RequestContextSchema: v.GenericSchema<FnRequestContext> = jsonObject({
  auth: v.nullish(AuthSchema),
  env: v.optional(v.pipe(anyObject<Record<string, string>>(), v.record(v.string(), v.string()))),
  host_url: v.optional(v.string()),
  internal_token: v.optional(v.string()),
})

export const RequestSchema: v.GenericSchema<FnRequest> = jsonObject({
  request_id: v.string(),
  function: v.string(),
  input: v.unknown(),
  context: RequestContextSchema,
})

export const ErrorBodySchema: v.GenericSchema<FnErrorBody> = jsonObject({
  code: v.string(),
  message: v.string(),
  details: v.optional(v.unknown()),
})

export const LogEntrySchema: v.GenericSchema<LogEntry> = jsonObject({
  level: v.picklist(LOG_LEVELS),
  message: v.string(),
  data: v.optional(v.unknown()),
  timestamp: v.string(),
})

/** The canonical response. Use normalizeResponse() for what functions actually print. */
export const ResponseSchema: v.GenericSchema<FnResponse> = jsonObject({
  request_id: v.string(),
  success: v.boolean(),
  output: v.optional(v.unknown()),
  error: v.optional(ErrorBodySchema),
  logs: v.array(LogEntrySchema),
  duration_ms: milliseconds,
  cold: v.optional(v.boolean()),
  queue_ms: v.optional(milliseconds),
  run_ms: v.optional(milliseconds),
})

/** Validate a request; throws FnError INVALID_INPUT naming the path of every bad field. */
export function parseRequest(raw: unknown): FnRequest {
  return parseWith(RequestSchema, raw, ErrorCode.INVALID_INPUT, 'request')
}
