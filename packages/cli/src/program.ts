/**
 * The `fn` command line, parsed with commander: one subcommand per job, `--help` on each, and
 * every failure mapped to an exit code (0 ok, 1 failed, 2 usage). Commands load on use, so
 * `--help` and usage errors do not pay for the executor and the adapters.
 */
import { NAME_PATTERN, parseDuration } from '@fn/manifest'
import { isFnError } from '@fn/protocol'
import { Argument, Command, CommanderError, InvalidArgumentError, Option } from 'commander'
import { version } from '../package.json'
import type { ServeCommandOptions } from './commands/serve'
import { CliError, EXIT, type ExitCode, UsageError } from './errors'
import { type CliRuntime, RUNTIME_NAMES } from './runtimes'
import { styleFor } from './style'

const DEFAULT_DIR = 'functions'

const wholeNumber =
  (min: number, max = Number.MAX_SAFE_INTEGER) =>
  (value: string): number => {
    const n = Number(value)
    if (!/^\d+$/.test(value.trim()) || n < min || n > max) {
      throw new InvalidArgumentError(`Expected a whole number from ${min} to ${max}.`)
    }
    return n
  }

const json = (value: string): unknown => {
  try {
    return JSON.parse(value)
  } catch (err) {
    throw new InvalidArgumentError(
      `It is not valid JSON (${(err as Error).message}); quote it for the shell: --input '{"name":"fn"}'.`,
    )
  }
}

const duration = (value: string): number => {
  try {
    return parseDuration(value)
  } catch (err) {
    throw new InvalidArgumentError(`${(err as Error).message.replace(/^\[fn\] /, '')}.`)
  }
}

const SIZE = /^(\d+)\s*(b|kb|k|mb|m)?$/i
const UNIT: Record<string, number> = { b: 1, k: 1024, kb: 1024, m: 1024 ** 2, mb: 1024 ** 2 }
const bytes = (value: string): number => {
  const match = SIZE.exec(value.trim())
  if (!match) throw new InvalidArgumentError('Expected a size like 1048576, 512kb or 6mb.')
  return Number(match[1]) * (UNIT[(match[2] ?? 'b').toLowerCase()] ?? 1)
}

const functionName = (value: string): string => {
  if (!NAME_PATTERN.test(value)) {
    throw new InvalidArgumentError(
      'A function name starts with a lower-case letter, then up to 62 of a-z, 0-9, _ and - (e.g. hello or resize-image).',
    )
  }
  return value
}

const dirOption = () =>
  new Option('-d, --dir <folder>', 'the functions folder').default(DEFAULT_DIR).env('FN_DIR')

const examples = (lines: string[]) => `\nExamples:\n${lines.map((l) => `  $ ${l}`).join('\n')}\n`

interface ServeFlags {
  dir: string
  port: number
  host: string
  json?: boolean
  concurrency?: number
  maxQueue?: number
  maxBody?: number
  debounce?: number
}

/** Builds the program; `run` receives each action's exit code. */
export function createProgram(run: (code: Promise<ExitCode>) => Promise<void>): Command {
  const err = styleFor(process.stderr)
  const program = new Command('fn')
    .description(
      'Run functions written for Node, Deno, Bun, Python and Go: invoke, serve, develop, build, scaffold.',
    )
    .version(version, '-v, --version')
    .option('--no-color', 'no colours (also: NO_COLOR=1)')
    .exitOverride()
    .configureOutput({ outputError: (text, write) => write(err.red(text)) })
    .showSuggestionAfterError()
    .showHelpAfterError(err.dim("(run 'fn --help' or 'fn <command> --help' for usage)"))
    .hook('preAction', (cmd) => {
      if (cmd.opts()['color'] === false) process.env['NO_COLOR'] = '1'
    })
    .addHelpText(
      'after',
      `\nExit codes: 0 ok, 1 the function or operation failed, 2 usage error.\n${examples([
        'fn new hello --runtime node',
        `fn invoke hello --input '{"name":"fn"}'`,
        'fn dev',
      ])}`,
    )

  program
    .command('invoke')
    .description('invoke one function and print its response JSON (exit 0 success, 1 error)')
    .addArgument(new Argument('<name>', 'the function name'))
    .addOption(dirOption())
    .addOption(
      new Option(
        '-i, --input <json>',
        'the input as JSON (default: fn.yaml sample_input, else null)',
      )
        .argParser(json)
        .conflicts('inputFile'),
    )
    .addOption(
      new Option('-f, --input-file <file>', 'read the input JSON from a file (- for stdin)'),
    )
    .addOption(
      new Option('-t, --timeout <duration>', 'override the timeout, e.g. 500ms, 10s').argParser(
        duration,
      ),
    )
    .addHelpText(
      'after',
      examples([
        `fn invoke hello --input '{"name":"fn"}'`,
        'fn invoke resize --input-file request.json --dir ./functions',
        `echo '{"text":"hi"}' | fn invoke checksum --input-file -`,
      ]),
    )
    .action(
      (name: string, o: { dir: string; input?: unknown; inputFile?: string; timeout?: number }) =>
        run(
          import('./commands/invoke').then(({ invokeCommand }) =>
            invokeCommand(name, {
              dir: o.dir,
              ...('input' in o ? { input: o.input } : {}),
              ...(o.inputFile !== undefined ? { inputFile: o.inputFile } : {}),
              ...(o.timeout !== undefined ? { timeoutMs: o.timeout } : {}),
            }),
          ),
        ),
    )

  program
    .command('list')
    .alias('ls')
    .description(
      'list functions with runtime, protocol and status (a table on a TTY, JSON otherwise)',
    )
    .addOption(dirOption())
    .option('--json', 'print JSON even on a TTY')
    .action((o: { dir: string; json?: boolean }) =>
      run(
        import('./commands/list').then(({ listCommand }) =>
          listCommand({ dir: o.dir, json: o.json === true }),
        ),
      ),
    )

  const serveOptions = (cmd: Command) =>
    cmd
      .addOption(dirOption())
      .addOption(
        new Option('-p, --port <port>', 'port to listen on (0: any free port)')
          .default(8787)
          .env('FN_PORT')
          .argParser(wholeNumber(0, 65535)),
      )
      .addOption(
        new Option('-H, --host <host>', 'address to listen on').default('127.0.0.1').env('FN_HOST'),
      )
      .addOption(
        new Option(
          '--concurrency <n>',
          'invocations in flight across all functions (default 64)',
        ).argParser(wholeNumber(1)),
      )
      .addOption(
        new Option(
          '--max-queue <n>',
          'callers allowed to wait for a slot before 429 BUSY (default 4096)',
        ).argParser(wholeNumber(0)),
      )
      .addOption(
        new Option(
          '--max-body <size>',
          'largest request body, e.g. 512kb, 6mb (default 6mb)',
        ).argParser(bytes),
      )
      .option('--json', 'print NDJSON events instead of human lines')

  const serveOptionsOf = (o: ServeFlags, dev: boolean): ServeCommandOptions => ({
    dir: o.dir,
    port: Number(o.port),
    host: o.host,
    dev,
    json: o.json === true,
    ...(o.concurrency !== undefined ? { concurrency: o.concurrency } : {}),
    ...(o.maxQueue !== undefined ? { maxQueue: o.maxQueue } : {}),
    ...(o.maxBody !== undefined ? { maxBodyBytes: o.maxBody } : {}),
    ...(o.debounce !== undefined ? { debounceMs: o.debounce } : {}),
  })

  serveOptions(
    program
      .command('serve')
      .description('serve the HTTP API (POST /functions/:name, GET /functions, /healthz, /stats)'),
  )
    .addHelpText(
      'after',
      examples(['fn serve', 'fn serve --port 0 --json', 'fn serve --host 0.0.0.0 --port 9000']),
    )
    .action((o: ServeFlags) =>
      run(
        import('./commands/serve').then(({ serveCommand }) =>
          serveCommand(serveOptionsOf(o, false)),
        ),
      ),
    )

  serveOptions(
    program
      .command('dev')
      .description(
        'serve, watch the functions folder and hot-reload on change; prints function logs',
      ),
  )
    .addOption(
      new Option('--debounce <ms>', 'quiet time before a burst of changes is applied').argParser(
        wholeNumber(0),
      ),
    )
    .addHelpText('after', examples(['fn dev', 'fn dev --dir ./api --port 3000']))
    .action((o: ServeFlags) =>
      run(
        import('./commands/serve').then(({ serveCommand }) =>
          serveCommand(serveOptionsOf(o, true)),
        ),
      ),
    )

  program
    .command('build')
    .description('build every function (dependency installs, compilation); exit 1 if any failed')
    .addOption(dirOption())
    .option('--json', 'print the results as JSON')
    .action((o: { dir: string; json?: boolean }) =>
      run(
        import('./commands/build').then(({ buildCommand }) =>
          buildCommand({ dir: o.dir, json: o.json === true }),
        ),
      ),
    )

  program
    .command('new')
    .description('scaffold a working handler function and its fn.yaml')
    .addArgument(new Argument('<name>', 'the function name (folder name)').argParser(functionName))
    .addOption(
      new Option('-r, --runtime <runtime>', 'the language runtime')
        .choices(RUNTIME_NAMES)
        .makeOptionMandatory(),
    )
    .addOption(dirOption())
    .option('--json', 'print what was created as JSON')
    .addHelpText(
      'after',
      examples(['fn new hello --runtime node', 'fn new resize --runtime python --dir ./api']),
    )
    .action((name: string, o: { runtime: CliRuntime; dir: string; json?: boolean }) =>
      run(
        import('./commands/new').then(({ newCommand }) =>
          newCommand(name, { runtime: o.runtime, dir: o.dir, json: o.json === true }),
        ),
      ),
    )

  return program
}

/**
 * Runs the `fn` command with `argv` (without the node and script paths) and resolves with the
 * exit code. Messages go to stderr, results to stdout.
 */
export async function runCli(argv: string[]): Promise<ExitCode> {
  let pending: Promise<ExitCode> | undefined
  const program = createProgram(async (code) => {
    pending = code
    await code
  })
  const fail = (message: string, code: ExitCode) => {
    process.stderr.write(`${styleFor(process.stderr).red(message)}\n`)
    return code
  }
  try {
    await program.parseAsync(argv, { from: 'user' })
    return pending ? await pending : EXIT.OK
  } catch (err) {
    if (err instanceof CommanderError) {
      // Help and version were printed; every other commander error is a usage error, printed.
      if (err.code === 'commander.helpDisplayed' || err.code === 'commander.version') return EXIT.OK
      return EXIT.USAGE
    }
    if (err instanceof UsageError) return fail(err.message, EXIT.USAGE)
    if (err instanceof CliError) return fail(err.message, err.exitCode)
    if (isFnError(err)) return fail(err.message, EXIT.FAILED)
    const e = err as Error
    const detail = process.env['FN_DEBUG'] ? `\n${e.stack}` : ' (FN_DEBUG=1 shows the stack)'
    return fail(`[fn] unexpected error: ${e?.message ?? String(err)}${detail}`, EXIT.FAILED)
  }
}
