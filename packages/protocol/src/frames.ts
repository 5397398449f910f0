import * as v from 'valibot'
import { ErrorCode, FnError } from './errors'
import { anyObject, isRecord, parseWith } from './issues'
import {
  ErrorBodySchema,
  type FnErrorBody,
  type FnRequest,
  LOG_LEVELS,
  type LogLevel,
  RequestSchema,
} from './wire'

/** The version of the framed protocol this package speaks. Every frame carries it as `v`. */
export const PROTOCOL_VERSION = 1 as const

/** Worker -> host: the worker has loaded the function and takes invocations. */
export interface ReadyFrame {
  v: 1
  type: 'ready'
  pid?: number
  /** e.g. "node 20.19.0". */
  runtime?: string
  /**
   * Invocations this worker runs at once (the `FN_CONCURRENCY` it was started with, or fewer).
   * Absent means 1: the host then sends one `invoke` at a time and never sends `cancel`.
   */
  concurrency?: number
}

/** Host -> worker: run one invocation. */
export interface InvokeFrame {
  v: 1
  type: 'invoke'
  id: string
  request: FnRequest
  /** Epoch milliseconds after which the host gives up on this invocation. */
  deadline?: number
}

/** Worker -> host: a log entry of invocation `id`. */
export interface LogFrame {
  v: 1
  type: 'log'
  id: string
  level: LogLevel
  message: string
  data?: unknown
  timestamp: string
}

/** Worker -> host: invocation `id` succeeded. A missing `output` decodes as null. */
export interface ResultFrame {
  v: 1
  type: 'result'
  id: string
  output: unknown
  /** With `FrameDecoder({ rawOutput: true })`: the output's JSON text, unparsed (`output` is then undefined). */
  outputJson?: string
}

/** Worker -> host: invocation `id` failed; without `id` the worker failed as a whole. */
export interface ErrorFrame {
  v: 1
  type: 'error'
  id?: string
  error: FnErrorBody
}

/**
 * Host -> worker: stop invocation `id` (it timed out or its caller went away). The worker answers
 * at once with an `error` frame for `id` (code CANCELLED) and sends nothing more for it. Only sent
 * to workers whose `ready` said `concurrency` > 1; the others are killed instead.
 */
export interface CancelFrame {
  v: 1
  type: 'cancel'
  id: string
}

/** Host -> worker: finish and exit. */
export interface ShutdownFrame {
  v: 1
  type: 'shutdown'
}

export type Frame =
  | ReadyFrame
  | InvokeFrame
  | LogFrame
  | ResultFrame
  | ErrorFrame
  | CancelFrame
  | ShutdownFrame

const version = v.literal(PROTOCOL_VERSION)

/** All frames; unknown keys are dropped so that newer peers may add fields. */
export const FrameSchema: v.GenericSchema<unknown, Frame> = v.pipe(
  anyObject(),
  v.variant('type', [
    v.object({
      v: version,
      type: v.literal('ready'),
      pid: v.optional(v.pipe(v.number(), v.integer())),
      runtime: v.optional(v.string()),
      concurrency: v.optional(v.pipe(v.number(), v.integer(), v.minValue(1))),
    }),
    v.object({
      v: version,
      type: v.literal('invoke'),
      id: v.string(),
      request: RequestSchema,
      deadline: v.optional(v.number()),
    }),
    v.object({
      v: version,
      type: v.literal('log'),
      id: v.string(),
      level: v.picklist(LOG_LEVELS),
      message: v.string(),
      data: v.optional(v.unknown()),
      timestamp: v.string(),
    }),
    v.object({
      v: version,
      type: v.literal('result'),
      id: v.string(),
      output: v.optional(v.unknown(), null),
    }),
    v.object({
      v: version,
      type: v.literal('error'),
      id: v.optional(v.string()),
      error: ErrorBodySchema,
    }),
    v.object({ v: version, type: v.literal('cancel'), id: v.string() }),
    v.object({ v: version, type: v.literal('shutdown') }),
  ]),
)

/**
 * Validate one decoded frame. Throws FnError PROTOCOL_ERROR naming what is wrong, including a
 * frame of another protocol version.
 */
export function parseFrame(value: unknown): Frame {
  if (isRecord(value) && value.v !== PROTOCOL_VERSION) {
    const found =
      value.v === undefined ? 'no version field "v"' : `version ${JSON.stringify(value.v)}`
    throw new FnError(
      ErrorCode.PROTOCOL_ERROR,
      `[fn] unsupported frame: it has ${found}, this side supports protocol version ` +
        `${PROTOCOL_VERSION} only: use matching versions of fn and its runtime adapters`,
      { details: { supported: [PROTOCOL_VERSION], received: value.v } },
    )
  }
  return (
    (isRecord(value) && fastFrame(value)) ||
    parseWith(FrameSchema, value, ErrorCode.PROTOCOL_ERROR, 'frame')
  )
}

/**
 * The frames a host receives on every invocation, checked by hand: the same rules as
 * FrameSchema, without its cost on the hot path. Anything unusual goes to the schema, which also
 * writes the error message.
 */
function fastFrame(f: Record<string, unknown>): Frame | undefined {
  if (typeof f['id'] !== 'string') return undefined
  if (f['type'] === 'result') {
    return { v: PROTOCOL_VERSION, type: 'result', id: f['id'], output: f['output'] ?? null }
  }
  if (
    f['type'] === 'log' &&
    typeof f['message'] === 'string' &&
    typeof f['timestamp'] === 'string' &&
    LOG_LEVELS.includes(f['level'] as LogLevel)
  ) {
    const frame: LogFrame = {
      v: PROTOCOL_VERSION,
      type: 'log',
      id: f['id'],
      level: f['level'] as LogLevel,
      message: f['message'],
      timestamp: f['timestamp'],
    }
    if (f['data'] !== undefined) frame.data = f['data']
    return frame
  }
  return undefined
}
