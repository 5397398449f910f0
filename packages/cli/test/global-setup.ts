/**
 * The CLI tests run the built `fn` (dist/cli.mjs) as a subprocess, and Node resolves its
 * workspace imports to their dist folders. Before the tests: build whatever is stale (the
 * workspace packages @fn/cli depends on, then @fn/cli), so a test never runs yesterday's code.
 */
import { execFileSync } from 'node:child_process'
import { existsSync, readdirSync, readFileSync, realpathSync, statSync } from 'node:fs'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'

const here = join(dirname(fileURLToPath(import.meta.url)), '..')
const root = join(here, '..', '..')

/** Newest modification time under `path` (files only), skipping tests. */
function newest(path: string): number {
  if (!existsSync(path)) return 0
  const stat = statSync(path)
  if (!stat.isDirectory()) return path.endsWith('.test.ts') ? 0 : stat.mtimeMs
  let max = 0
  for (const item of readdirSync(path)) max = Math.max(max, newest(join(path, item)))
  return max
}

/** Oldest output in dist, or 0 when there is no build. */
function built(dir: string): number {
  const dist = join(dir, 'dist')
  if (!existsSync(join(dist, 'index.mjs'))) return 0
  return Math.min(...readdirSync(dist).map((f) => statSync(join(dist, f)).mtimeMs))
}

function stale(dir: string): boolean {
  const sources = Math.max(
    newest(join(dir, 'src')),
    newest(join(dir, 'shim')),
    newest(join(dir, 'package.json')),
  )
  return built(dir) < sources
}

/** Workspace packages @fn/cli depends on, transitively (their folders). */
function workspaceDeps(): string[] {
  const seen = new Set<string>()
  const visit = (dir: string) => {
    const pkg = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')) as {
      dependencies?: Record<string, string>
    }
    for (const [name, range] of Object.entries(pkg.dependencies ?? {})) {
      if (!range.startsWith('workspace:')) continue
      const real = realpathSync(join(dir, 'node_modules', name))
      if (seen.has(real)) continue
      seen.add(real)
      visit(real)
    }
  }
  visit(here)
  return [...seen]
}

export default function setup(): void {
  const run = (args: string[], cwd: string) =>
    execFileSync('pnpm', args, { cwd, stdio: ['ignore', 'inherit', 'inherit'] })
  const outdated = workspaceDeps().filter(stale)
  if (outdated.length > 0) {
    console.log(
      `[cli tests] building stale dependencies: ${outdated.map((d) => d.slice(root.length + 1)).join(', ')}`,
    )
    run(['turbo', 'run', 'build', '--filter=@fn/cli^...', '--output-logs=errors-only'], root)
  }
  if (stale(here) || !existsSync(join(here, 'dist', 'cli.mjs'))) {
    console.log('[cli tests] building @fn/cli')
    run(['exec', 'tsdown', '--logLevel', 'warn'], here)
  }
}
