export {
  describeCandidates,
  detectEntry,
  detectRuntime,
  ENTRY_EXTENSIONS,
  entryCandidates,
} from './detect'
export { type DiscoveryProblem, type DiscoveryResult, discover, isSkippedFolder } from './discover'
export { resolveEnv } from './env'
export { isManifestError, ManifestError } from './errors'
export {
  DEFAULT_IDLE_TIMEOUT_MS,
  DEFAULT_TIMEOUT_MS,
  loadFunction,
  MANIFEST_FILE,
  readManifest,
} from './load'
export { parseManifest } from './parse'
export { NAME_PATTERN } from './schema'
export type {
  BuildConfig,
  FunctionDefinition,
  LoadOptions,
  Manifest,
  ManifestIssue,
  Mode,
  Permissions,
  PoolConfig,
  Protocol,
  Route,
  RuntimeName,
} from './types'
export { MAX_DURATION_MS, parseDuration, parseSize } from './units'
