import { EXIT, type ExitCode } from '../errors'
import { functionsDir, openExecutor } from '../project'
import { functionTable, listed, runtimeLine } from '../report'
import { styleFor } from '../style'

export interface ListCommandOptions {
  dir: string
  /** JSON even on a TTY (it is the default elsewhere). */
  json?: boolean
}

/**
 * Lists every function with its status. Functions are loaded and built first, so a failed build,
 * a missing runtime or an invalid fn.yaml shows as an error with its reason.
 */
export async function listCommand(options: ListCommandOptions): Promise<ExitCode> {
  const dir = functionsDir(options.dir)
  const s = styleFor(process.stdout)
  const json = options.json || !s.tty
  const executor = openExecutor({ dir })
  const err = styleFor(process.stderr)
  try {
    if (err.tty) process.stderr.write(err.dim(`loading ${options.dir}…`))
    await executor.start()
    if (err.tty) process.stderr.write('\r\u001b[2K')
    const rows = listed(executor)
    if (json) {
      process.stdout.write(`${JSON.stringify(rows, null, 2)}\n`)
    } else {
      process.stdout.write(`${functionTable(s, rows)}\n\n${await runtimeLine(s, executor)}\n`)
    }
  } finally {
    await executor.close()
  }
  return EXIT.OK
}
