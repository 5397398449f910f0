/**
 * npm as the installer of node functions' package.json dependencies: the npm that ships with the
 * resolved Node (`<dir of node>/npm`), else the one on PATH, run on that same Node.
 */
import { realpathSync } from 'node:fs'
import { readFile } from 'node:fs/promises'
import { dirname, join } from 'node:path'
import type { PackageTool } from '@fn/runtime-core'
import { FnError, functionEnv, type RuntimeInfo, runProcess, which } from '@fn/runtime-core'

/** How npm is started: `command ...prefix <npm args>`. */
interface NpmCommand {
  command: string
  prefix: string[]
  version: string
}

/**
 * Finds npm for `runtime`: `bin` if given, else `<dir of node>/npm`, else `npm` on PATH. A
 * JavaScript entry (npm-cli.js, what `npm` links to) runs on the function's Node directly.
 */
async function findNpm(runtime: RuntimeInfo, bin: string | undefined): Promise<NpmCommand> {
  const candidates = bin ? [which(bin)] : [which(join(dirname(runtime.bin), 'npm')), which('npm')]
  for (const candidate of candidates) {
    if (!candidate) continue
    const real = realpathSync(candidate)
    if (/\.[cm]?js$/.test(real)) {
      const version = await npmPackageVersion(real)
      if (version) return { command: runtime.bin, prefix: [real], version }
    }
    const result = await runProcess(
      { command: real, args: ['--version'], env: functionEnv(), cwd: dirname(real) },
      { timeoutMs: 30_000 },
    )
    const version = result.stdout.toString('utf8').trim()
    if (result.exitCode === 0 && /^\d+\.\d+/.test(version)) {
      return { command: real, prefix: [], version }
    }
  }
  const where = bin ? `"${bin}"` : `next to node (${dirname(runtime.bin)}) or on PATH`
  throw new FnError(
    'RUNTIME_NOT_AVAILABLE',
    `[fn] npm (to install the dependencies of node functions) was not found ${where}: install npm, or pass node({ npm: '/path/to/npm' })`,
    { details: { runtime: 'node', tool: 'npm' } },
  )
}

/** The version of the npm package holding `cli` (…/npm/bin/npm-cli.js), if it is one. */
async function npmPackageVersion(cli: string): Promise<string | undefined> {
  try {
    const pkg = JSON.parse(await readFile(join(dirname(dirname(cli)), 'package.json'), 'utf8'))
    return pkg.name === 'npm' && typeof pkg.version === 'string' ? pkg.version : undefined
  } catch {
    return undefined
  }
}

/** npm: `npm ci` from a package-lock.json / npm-shrinkwrap.json, else `npm install`. */
export function npmTool(bin: string | undefined): PackageTool {
  const found = new Map<string, Promise<NpmCommand>>()
  const npm = (runtime: RuntimeInfo): Promise<NpmCommand> => {
    let p = found.get(runtime.bin)
    if (!p) {
      p = findNpm(runtime, bin)
      found.set(runtime.bin, p)
      p.catch(() => found.delete(runtime.bin))
    }
    return p
  }
  return {
    name: 'npm',
    lockfiles: ['npm-shrinkwrap.json', 'package-lock.json'],
    configFiles: ['.npmrc'],
    envPrefixes: [],
    identity: async (runtime) => [`npm:${(await npm(runtime)).version}`],
    async command(runtime, { lockfile, scripts, args }) {
      const { command, prefix } = await npm(runtime)
      const verb = lockfile ? 'ci' : 'install'
      return {
        command,
        args: [
          ...prefix,
          verb,
          '--omit=dev',
          '--no-audit',
          '--no-fund',
          '--no-update-notifier',
          '--no-progress',
          '--color=false',
          ...(scripts ? [] : ['--ignore-scripts']),
          ...args,
        ],
        what: `npm ${verb}`,
      }
    },
  }
}
