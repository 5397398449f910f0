#!/usr/bin/env node
// The `fn` executable.
import { runCli } from './program'

const code = await runCli(process.argv.slice(2))
process.exitCode = code
// Everything is closed by now; a handle left open by a dependency must not keep `fn` alive.
setTimeout(() => process.exit(code), 2000).unref()
