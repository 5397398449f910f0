import { bun } from '@fn/runtime-bun'
import type { RuntimeAdapter } from '@fn/runtime-core'
import { deno } from '@fn/runtime-deno'
import { go } from '@fn/runtime-go'
import { node } from '@fn/runtime-node'
import { python } from '@fn/runtime-python'

/** The runtimes the CLI knows, in the order `fn new --runtime` lists them. */
export const RUNTIME_NAMES = ['node', 'deno', 'bun', 'python', 'go'] as const
export type CliRuntime = (typeof RUNTIME_NAMES)[number]

/**
 * Every adapter. A runtime missing on this machine costs nothing until a function needs it; then
 * that function is unavailable (RUNTIME_NOT_AVAILABLE) and the others still serve.
 *
 * Each adapter finds its binary itself (PATH, then its own fallbacks such as the `deno` and `bun`
 * npm packages of the project in the current folder); `FN_NODE_BIN`, `FN_DENO_BIN`, `FN_BUN_BIN`,
 * `FN_PYTHON_BIN` and `FN_GO_BIN` name a binary explicitly.
 */
export function allRuntimes(
  env: Record<string, string | undefined> = process.env,
): RuntimeAdapter[] {
  const bin = (name: CliRuntime) => {
    const value = env[`FN_${name.toUpperCase()}_BIN`]
    return value ? { bin: value } : {}
  }
  return [
    node(bin('node')),
    deno(bin('deno')),
    bun(bin('bun')),
    python(bin('python')),
    go(bin('go')),
  ] as RuntimeAdapter[]
}
