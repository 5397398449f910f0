export {
  type DecoderOptions,
  encodeFrame,
  FrameDecoder,
  type FrameDecoderOptions,
  NdjsonDecoder,
} from './codec'
export {
  ERROR_STATUS,
  ErrorCode,
  FnError,
  type FnErrorOptions,
  httpStatus,
  isFnError,
} from './errors'
export {
  type CancelFrame,
  type ErrorFrame,
  type Frame,
  FrameSchema,
  type InvokeFrame,
  type LogFrame,
  PROTOCOL_VERSION,
  parseFrame,
  type ReadyFrame,
  type ResultFrame,
  type ShutdownFrame,
} from './frames'
export { normalizeResponse } from './normalize'
export { RawJson } from './raw'
export {
  AuthSchema,
  ErrorBodySchema,
  type FnAuth,
  type FnErrorBody,
  type FnRequest,
  type FnRequestContext,
  type FnResponse,
  LOG_LEVELS,
  type LogEntry,
  LogEntrySchema,
  type LogLevel,
  parseRequest,
  RequestContextSchema,
  RequestSchema,
  ResponseSchema,
} from './wire'
