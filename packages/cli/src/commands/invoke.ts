import { readFileSync } from 'node:fs'
import { basename } from 'node:path'
import { discover } from '@fn/manifest'
import { FnError, type FnResponse } from '@fn/protocol'
import { EXIT, type ExitCode, UsageError } from '../errors'
import { functionsDir, loadOptions, openExecutor } from '../project'
import { allRuntimes } from '../runtimes'
import { styleFor } from '../style'

export interface InvokeCommandOptions {
  dir: string
  /** Already parsed from --input. */
  input?: unknown
  /** A file with the input JSON; `-` reads stdin. */
  inputFile?: string
  timeoutMs?: number
}

/** Reads and parses --input-file; a usage error naming the file otherwise. */
function readInputFile(file: string): unknown {
  let text: string
  try {
    text = readFileSync(file === '-' ? 0 : file, 'utf8')
  } catch (err) {
    const reason = (err as NodeJS.ErrnoException).code ?? (err as Error).message
    throw new UsageError(`[fn] --input-file ${file}: cannot read it (${reason})`)
  }
  try {
    return JSON.parse(text)
  } catch (err) {
    throw new UsageError(
      `[fn] --input-file ${file}: not valid JSON (${(err as Error).message}); the file must hold one JSON document`,
    )
  }
}

const failed = (error: FnError): FnResponse => ({
  request_id: '',
  success: false,
  error: error.toJSON(),
  logs: [],
  duration_ms: 0,
})

/**
 * Invokes one function and prints the response JSON. Only that function is loaded and built,
 * so one broken neighbour never slows down or breaks `fn invoke`.
 */
export async function invokeCommand(
  name: string,
  options: InvokeCommandOptions,
): Promise<ExitCode> {
  const dir = functionsDir(options.dir)
  const hasInput = options.input !== undefined || options.inputFile !== undefined
  const input = options.inputFile !== undefined ? readInputFile(options.inputFile) : options.input
  const runtimes = allRuntimes()
  const { functions, problems } = await discover(dir, loadOptions(runtimes))
  const def = functions.find((f) => f.name === name)
  let response: FnResponse
  if (!def) {
    const problem = problems.find((p) => basename(p.dir) === name)
    const known = functions.map((f) => f.name).join(', ') || 'none'
    response = failed(
      problem?.error ??
        new FnError(
          'FUNCTION_NOT_FOUND',
          `[fn] no function named "${name}" in ${dir} (known: ${known}); check the name or pass --dir`,
          { details: { name, dir } },
        ),
    )
  } else {
    const err = styleFor(process.stderr)
    const executor = openExecutor({
      functions: [def.dir],
      onEvent: (e) => {
        if (e.type === 'stray') process.stderr.write(`${err.dim(`[${e.name}]`)} ${e.text}`)
      },
    })
    try {
      await executor.start()
      response = await executor.invoke(name, hasInput ? input : (def.sampleInput ?? null), {
        ...(options.timeoutMs !== undefined ? { timeoutMs: options.timeoutMs } : {}),
      })
    } finally {
      await executor.close()
    }
  }
  const pretty = process.stdout.isTTY === true
  process.stdout.write(`${JSON.stringify(response, null, pretty ? 2 : undefined)}\n`)
  return response.success ? EXIT.OK : EXIT.FAILED
}
