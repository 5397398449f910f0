export const PROTOCOL_VERSION = 1 as const
