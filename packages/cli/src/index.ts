export { EXIT, type ExitCode } from './errors'
export {
  createHttpApp,
  createHttpHandler,
  DEFAULT_MAX_BODY_BYTES,
  type HttpAppOptions,
  type HttpInvocation,
} from './http'
export { runCli } from './program'
export { allRuntimes, type CliRuntime, RUNTIME_NAMES } from './runtimes'
export { type TemplateFiles, templateFiles } from './templates'
