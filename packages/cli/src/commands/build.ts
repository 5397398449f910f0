import { basename, relative } from 'node:path'
import type { ExecutorEvent } from '@fn/executor'
import { discover } from '@fn/manifest'
import { EXIT, type ExitCode } from '../errors'
import { Progress } from '../progress'
import { functionsDir, loadOptions, openExecutor } from '../project'
import { indent } from '../report'
import { allRuntimes } from '../runtimes'
import { styleFor } from '../style'

export interface BuildCommandOptions {
  dir: string
  json?: boolean
}

/** One function's build result, as `fn build --json` reports it. */
export interface BuildResult {
  name: string
  runtime?: string
  status: 'ok' | 'failed'
  error?: { code: string; message: string }
}

/**
 * Builds every function: the fn.yaml build, the adapter's prepare step (dependency installs,
 * compilation), and one worker of every handler function, so a module that does not load fails
 * here. Outputs land in the build cache beside the functions folder (`.fn/cache`) that
 * `fn serve`, `fn dev` and `fn invoke` reuse.
 */
export async function buildCommand(options: BuildCommandOptions): Promise<ExitCode> {
  const dir = functionsDir(options.dir)
  const runtimes = allRuntimes()
  const found = await discover(dir, loadOptions(runtimes))
  const total = found.functions.length + found.problems.length
  const out = styleFor(process.stdout)
  const progress = new Progress(process.stderr, styleFor(process.stderr), process.stdout)
  const results: BuildResult[] = []
  const report = (result: BuildResult) => {
    results.push(result)
    if (!options.json) {
      const mark = result.status === 'ok' ? out.green('✓') : out.red('✗')
      const runtime = out.dim(result.runtime ?? '-')
      progress.line(`${mark} ${out.bold(result.name)} ${runtime}`)
      if (result.error) {
        const text = `${result.error.code}: ${result.error.message}`
        progress.line(out.red(indent(text, '    ', '    ')))
      }
    }
    progress.update(`building ${results.length}/${total}`)
  }
  const onEvent = (e: ExecutorEvent) => {
    if (e.type === 'ready' || e.type === 'reloaded') {
      report({ name: e.name, runtime: e.runtime, status: 'ok' })
    } else if (e.type === 'unavailable') {
      const def = found.functions.find((f) => f.name === e.name)
      report({
        name: e.name,
        ...(def ? { runtime: def.runtime } : {}),
        status: 'failed',
        error: { code: e.error.code, message: e.error.message },
      })
    } else if (e.type === 'problem') {
      report({
        name: basename(e.dir),
        status: 'failed',
        error: { code: e.error.code, message: e.error.message },
      })
    } else if (e.type === 'stray') {
      progress.line(`${out.dim(`[${e.name}]`)} ${e.text.trimEnd()}`)
    }
  }
  const executor = openExecutor({ dir, runtimes, onEvent })
  progress.start(`building 0/${total}`)
  try {
    await executor.start({ verify: true })
  } finally {
    progress.stop()
    await executor.close()
  }
  const failed = results.filter((r) => r.status === 'failed')
  results.sort((a, b) => a.name.localeCompare(b.name))
  if (options.json) {
    process.stdout.write(
      `${JSON.stringify({ ok: failed.length === 0, functions: results }, null, 2)}\n`,
    )
  } else if (results.length === 0) {
    process.stdout.write(`${out.dim(`no functions in ${relative(process.cwd(), dir) || dir}`)}\n`)
  } else if (failed.length === 0) {
    process.stdout.write(
      `${out.green(`built ${results.length} function${results.length === 1 ? '' : 's'}`)} in ${progress.elapsed()}\n`,
    )
  } else {
    const names = failed.map((f) => f.name).join(', ')
    process.stdout.write(
      `${out.red(`${failed.length} of ${results.length} failed:`)} ${names} ${out.dim(`(${progress.elapsed()})`)}\n`,
    )
  }
  return failed.length === 0 ? EXIT.OK : EXIT.FAILED
}
