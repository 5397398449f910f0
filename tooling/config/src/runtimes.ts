/**
 * Finds the real binary of each runtime for tests, once per process.
 *
 * Locally a missing runtime skips its tests with a loud reason; under `CI=true` it fails them,
 * so a machine that lost a runtime can never pass by skipping.
 */
import { execFileSync } from 'node:child_process'
import { accessSync, constants, realpathSync } from 'node:fs'
import { createRequire } from 'node:module'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { describe, it } from 'vitest'

export type RuntimeName = 'node' | 'deno' | 'bun' | 'python' | 'go'
export const RUNTIMES: readonly RuntimeName[] = ['node', 'deno', 'bun', 'python', 'go']

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..', '..')
const require = createRequire(join(root, 'package.json'))
const cache = new Map<RuntimeName, string | undefined>()

function executable(path: string): string | undefined {
  try {
    accessSync(path, constants.X_OK)
    return realpathSync(path)
  } catch {
    return undefined
  }
}

function ask(cmd: string, args: string[]): string | undefined {
  try {
    const out = execFileSync(cmd, args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] })
    return out.trim() || undefined
  } catch {
    return undefined
  }
}

function npmBinary(pkg: string, candidates: string[]): string | undefined {
  let dir: string
  try {
    dir = dirname(require.resolve(`${pkg}/package.json`))
  } catch {
    return undefined
  }
  for (const c of candidates) {
    const found = executable(join(dir, c))
    if (found) return found
  }
  return undefined
}

function locate(name: RuntimeName): string | undefined {
  switch (name) {
    case 'node':
      return process.execPath
    case 'deno':
      // node_modules/.bin/deno is a Node wrapper (~100 ms a call); the package ships the real one.
      return npmBinary('deno', ['deno', 'bin/deno'])
    case 'bun':
      return npmBinary('bun', ['bin/bun.exe', 'bin/bun'])
    case 'python': {
      // python3 on PATH may be a pyenv bash shim; ask it for the real interpreter once.
      const exe = ask('python3', ['-c', 'import sys; print(sys.executable)'])
      return exe ? executable(exe) : undefined
    }
    case 'go': {
      const goroot = ask('go', ['env', 'GOROOT'])
      return goroot ? executable(join(goroot, 'bin', 'go')) : undefined
    }
  }
}

/** The real binary of a runtime, or undefined when this machine lacks it. */
export function runtimeBinary(name: RuntimeName): string | undefined {
  if (!cache.has(name)) cache.set(name, locate(name))
  return cache.get(name)
}

export const isCI = process.env['CI'] === 'true' || process.env['CI'] === '1'

/**
 * `describe` for tests that need a real runtime. Found: runs `body(bin)`. Missing: under CI one
 * failing test says which runtime is missing; locally the suite is skipped with a loud warning.
 */
export function describeRuntime(
  name: RuntimeName,
  title: string,
  body: (bin: string) => void,
): void {
  const bin = runtimeBinary(name)
  if (bin) {
    describe(`${title} [${name}]`, () => body(bin))
    return
  }
  const reason = `runtime "${name}" not found (see tooling/config/src/runtimes.ts for where it is looked up)`
  if (isCI) {
    describe(`${title} [${name}]`, () => {
      it('needs its runtime', () => {
        throw new Error(`[fn] ${reason}; CI=true, so this fails instead of skipping`)
      })
    })
    return
  }
  console.warn(`\n!!! SKIPPING "${title}": ${reason}\n`)
  describe.skip(`${title} [${name}] (SKIPPED: ${reason})`, () => body(''))
}
