// Adapters (ours and third parties') need nothing but this package, errors included.
export { FnError, isFnError, RawJson } from '@fn/protocol'
export {
  type AdapterDefinition,
  type AdapterOptions,
  CONTRACT_VERSION,
  compareVersions,
  defineAdapter,
  execPathProbe,
  JS_HANDLER_SHIM,
  type LaunchArgs,
  type LaunchContext,
  npmPackageBinary,
  type PrepareContext,
  type ProcessKind,
  type Requirement,
  type RuntimeAdapter,
  type RuntimeInfo,
  shimPath,
  which,
} from './adapter'
export { type BuildStep, runBuildStep } from './build'
export { BuildCache, type BuildCacheStats, BuildCaches, hashInputs, listFiles } from './cache'
export { DEFAULTS } from './defaults'
export { BASE_ENV, type EnvOptions, functionEnv, NETWORK_ENV } from './env'
export { Limiter, type LimiterOptions } from './limiter'
export { DEFAULT_LOG_LIMITS, type LogLimits } from './logs'
export { exitError, failure, type Outcome } from './outcome'
export {
  INSTALL_ENV,
  INSTALL_FIELDS,
  type InstalledDeps,
  PackageDeps,
  type PackageDepsSettings,
  type PackageTool,
} from './package-deps'
export { type PoolOptions, type PoolStats, WorkerPool } from './pool'
export {
  DEFAULT_KILL_GRACE_MS,
  killGroup,
  type LaunchSpec,
  type ProcessResult,
  type RunOptions,
  runProcess,
} from './process'
export { type OneshotOptions, runHandlerOnce, runStdio } from './run'
export {
  createRunner,
  type Runner,
  type RunnerInvokeOptions,
  type RunnerOptions,
  type RunnerOutcome,
} from './runner'
export { runUserBuild } from './user-build'
export { type InvokeOptions, Worker, type WorkerOptions } from './worker'
