/** Exit codes of the `fn` command. */
export const EXIT = {
  /** The command did what was asked (for `invoke`: the function succeeded). */
  OK: 0,
  /** The function or the operation failed (invocation error, failed build, port in use, ...). */
  FAILED: 1,
  /** The command line was wrong: unknown command or option, bad or missing argument. */
  USAGE: 2,
} as const

export type ExitCode = (typeof EXIT)[keyof typeof EXIT]

/** A command line the CLI cannot act on; exits 2 with the message, which names the argument. */
export class UsageError extends Error {
  override readonly name = 'UsageError' as const
}

/** An operation that failed for a reason the user can act on; exits 1 with the message only. */
export class CliError extends Error {
  override readonly name = 'CliError' as const
  constructor(
    message: string,
    readonly exitCode: ExitCode = EXIT.FAILED,
    options?: ErrorOptions,
  ) {
    super(message, options)
  }
}
