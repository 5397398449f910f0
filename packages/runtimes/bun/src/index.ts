/**
 * The Bun adapter: `bun <entry>` for stdio functions, `bun <shim> <entry>` for handlers (the
 * JavaScript bootstrap shared with node and deno, from @fn/runtime-core).
 */
import {
  type AdapterOptions,
  defineAdapter,
  execPathProbe,
  JS_HANDLER_SHIM,
  npmPackageBinary,
  type Requirement,
  type RuntimeAdapter,
} from '@fn/runtime-core'

/** Options of the Bun adapter (extra flags go in `args`, e.g. `['--smol']`). */
export type BunOptions = AdapterOptions

export const requirement: Requirement = {
  bin: 'bun',
  minVersion: '1.2',
  install: 'npm i -D bun, or https://bun.sh/docs/installation',
}

/** Bun loads .env files from the working folder by itself: functions get only declared env. */
const NO_ENV_FILE = '--no-env-file'

/**
 * Runs JavaScript and TypeScript functions on Bun.
 *
 *   createExecutor({ runtimes: [bun()] })
 */
export function bun(options: BunOptions = {}): RuntimeAdapter {
  return defineAdapter({
    name: 'bun',
    extensions: ['.ts', '.tsx'],
    requirement,
    options,
    fallbacks: () => [npmPackageBinary('bun', ['bin/bun.exe', 'bin/bun'])],
    probe: execPathProbe([
      NO_ENV_FILE,
      '-e',
      'console.log(Bun.version + "\\n" + process.execPath)',
    ]),
    launch: (fn, { kind }) => ({
      args: kind === 'worker' ? [NO_ENV_FILE, JS_HANDLER_SHIM, fn.entry] : [NO_ENV_FILE, fn.entry],
    }),
  })
}
