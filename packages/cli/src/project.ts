/**
 * What every command shares: the functions folder, the executor over it with every runtime, and
 * the load options discovery needs to agree with the executor.
 */
import { statSync } from 'node:fs'
import { resolve } from 'node:path'
import { createExecutor, type Executor, type ExecutorOptions } from '@fn/executor'
import { ENTRY_EXTENSIONS, type LoadOptions } from '@fn/manifest'
import type { RuntimeAdapter } from '@fn/runtime-core'
import { UsageError } from './errors'
import { allRuntimes } from './runtimes'

/** `--dir` checked: an absolute path to an existing folder, else a usage error naming it. */
export function functionsDir(dir: string): string {
  const abs = resolve(dir)
  let isDir = false
  try {
    isDir = statSync(abs).isDirectory()
  } catch {
    // reported below
  }
  if (!isDir) {
    throw new UsageError(
      `[fn] --dir ${dir}: no such folder (${abs}); create it (fn new <name> does) or pass --dir <folder>`,
    )
  }
  return abs
}

/**
 * The load options the executor uses, for discovering functions outside it: the built-in
 * detection rules, plus the extensions adapters bring.
 */
export function loadOptions(runtimes: RuntimeAdapter[]): LoadOptions {
  return {
    extensions: Object.fromEntries(
      runtimes.flatMap((a) =>
        a.extensions
          .filter((ext) => !ENTRY_EXTENSIONS.includes(ext))
          .map((ext) => [ext, a.name] as const),
      ),
    ),
  }
}

export function openExecutor(
  options: Omit<ExecutorOptions, 'runtimes'> & { runtimes?: RuntimeAdapter[] },
): Executor {
  return createExecutor({ ...options, runtimes: options.runtimes ?? allRuntimes() })
}
