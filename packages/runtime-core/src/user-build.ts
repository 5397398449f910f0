/**
 * The fn.yaml `build` step: a command run in the function folder before first use, and again
 * whenever its inputs change. Cached by content (a stamp holds the key of the last good build),
 * and never run twice at once for the same function and inputs.
 */
import { existsSync } from 'node:fs'
import { mkdir, readFile, writeFile } from 'node:fs/promises'
import { join, relative, resolve, sep } from 'node:path'
import type { FunctionDefinition } from '@fn/manifest'
import { runBuildStep } from './build'
import { hashInputs, listFiles } from './cache'
import { functionEnv } from './env'

const running = new Map<string, Promise<boolean>>()

/** Glob subset for `build.watch`: `*` within a segment, `**` across segments, `?` one char. */
export function globToRegExp(glob: string): RegExp {
  let re = ''
  for (let i = 0; i < glob.length; i++) {
    const c = glob[i]!
    if (c === '*' && glob[i + 1] === '*') {
      re += glob[i + 2] === '/' ? '(?:.*/)?' : '.*'
      i += glob[i + 2] === '/' ? 2 : 1
    } else if (c === '*') re += '[^/]*'
    else if (c === '?') re += '[^/]'
    else re += c.replace(/[.+^${}()|[\]\\]/g, '\\$&')
  }
  return new RegExp(`^${re}$`)
}

/** The files whose content decides whether the build must run again. */
export async function buildInputs(fn: FunctionDefinition): Promise<string[]> {
  const build = fn.build
  if (!build) return []
  const output = build.output
    ? relative(fn.dir, resolve(fn.dir, build.output)).split(sep).join('/')
    : undefined
  const patterns = build.watch.map(globToRegExp)
  return listFiles(fn.dir, (rel) => {
    if (output && (rel === output || rel.startsWith(`${output}/`))) return false
    return patterns.length === 0 || patterns.some((p) => p.test(rel))
  })
}

/**
 * Runs the function's build unless its inputs are unchanged since the last good build.
 * Resolves true when it ran. Throws BUILD_FAILED with the tail of the build log.
 */
export async function runUserBuild(fn: FunctionDefinition, stampDir: string): Promise<boolean> {
  const build = fn.build
  if (!build) return false
  const files = await buildInputs(fn)
  const key = await hashInputs(fn.dir, files, [build.command, ...build.args, build.output ?? ''])
  const stamp = join(stampDir, `${fn.name}.build`)
  const outputOk = !build.output || existsSync(resolve(fn.dir, build.output))
  if (outputOk && (await readFile(stamp, 'utf8').catch(() => '')) === key) return false
  const id = `${fn.dir}\0${key}`
  const inflight = running.get(id)
  if (inflight) return inflight
  const p = (async () => {
    await runBuildStep({
      spec: {
        command: build.command,
        args: build.args,
        cwd: fn.dir,
        env: functionEnv({ declared: fn.env }),
      },
      what: `build (${[build.command, ...build.args].join(' ')})`,
      label: `function "${fn.name}"`,
    })
    await mkdir(stampDir, { recursive: true })
    await writeFile(stamp, key)
    return true
  })().finally(() => running.delete(id))
  running.set(id, p)
  return p
}
