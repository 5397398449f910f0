export {
  createExecutor,
  Executor,
  type ExecutorEvent,
  type ExecutorOptions,
  type ExecutorStats,
  type FunctionDetail,
  type FunctionSummary,
  type InvokeOptions,
} from './executor'
export type { FunctionStats } from './stats'
