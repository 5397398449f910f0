/**
 * Per-function dependencies: a function folder with `requirements.txt` gets a virtual environment,
 * built once per distinct set of dependencies (content-addressed, shared, kept across restarts)
 * with Python's own `venv` and `pip`.
 */
import { existsSync } from 'node:fs'
import { lstat, readdir, readFile, stat, writeFile } from 'node:fs/promises'
import { homedir } from 'node:os'
import { basename, dirname, join, relative, resolve, sep } from 'node:path'
import { fileURLToPath } from 'node:url'
import type { FunctionDefinition } from '@fn/manifest'
import {
  type BuildCacheStats,
  BuildCaches,
  functionEnv,
  hashInputs,
  listFiles,
  NETWORK_ENV,
  type PrepareContext,
  type RuntimeInfo,
  runBuildStep,
  runProcess,
} from '@fn/runtime-core'

export const REQUIREMENTS = 'requirements.txt'

/** Bumped when the way a venv is built changes what ends up in it. */
const VENV_FORMAT = 'fn-python-venv-1'

/** Host variables the installer gets (besides runtime-core's base and every `PIP_*`). */
export const INSTALL_ENV: readonly string[] = [
  'XDG_CACHE_HOME',
  'XDG_CONFIG_HOME',
  ...NETWORK_ENV,
  'REQUESTS_CA_BUNDLE',
  'CURL_CA_BUNDLE',
  'NETRC',
  'SSH_AUTH_SOCK',
  'GIT_SSH_COMMAND',
  // Packages built from source (sdists with C extensions).
  'CC',
  'CXX',
  'CFLAGS',
  'CPPFLAGS',
  'CXXFLAGS',
  'LDFLAGS',
  'PKG_CONFIG_PATH',
]

/** `PIP_*` settings that would send the install somewhere other than the venv: never passed. */
const PIP_REDIRECTS = new Set(['PIP_PYTHON', 'PIP_TARGET', 'PIP_PREFIX', 'PIP_ROOT', 'PIP_USER'])

/** `pip --python` (run the base interpreter's pip against the venv) exists since pip 22.3. */
const PIP_PYTHON_OPTION = [22, 3]

export interface VenvSettings {
  installArgs: readonly string[]
  installEnv: Readonly<Record<string, string>>
  timeoutMs: number
  /** `--cache-dir` value, false for `--no-cache-dir`, undefined for pip's own default. */
  pipCacheDir: string | false | undefined
}

/** A function's virtual environment. */
export interface PythonVenv {
  /** The venv folder, `<cacheDir>/venvs/<key>`. */
  dir: string
  /** Its interpreter, `<dir>/bin/python`: what the function's processes start. */
  python: string
  /** The cache key: a hash of the requirement files, the interpreter and the install settings. */
  key: string
}

/** What a requirements file depends on besides its own text. */
export interface RequirementInputs {
  /** Requirement files (`requirements.txt` and what it pulls in with -r/-c), relative to the function folder. */
  files: string[]
  /** Referenced requirement files that do not exist (pip will say so), relative to the function folder. */
  missing: string[]
  /** Local paths (`./lib`, `-e .`, `file:` URLs, `--find-links ./wheels`), absolute. */
  local: Array<{ path: string; editable: boolean }>
}

/**
 * Reads `file` (relative to `dir`) and every file it includes with `-r` / `-c`, recursively,
 * and collects the local paths its requirements point at. `-r`/`-c` paths are relative to the
 * file that names them, other paths to `dir` (pip's working directory), as pip resolves them.
 */
export async function requirementInputs(
  dir: string,
  file: string = REQUIREMENTS,
): Promise<RequirementInputs> {
  const out: RequirementInputs = { files: [], missing: [], local: [] }
  const seen = new Set<string>()
  async function visit(abs: string): Promise<void> {
    if (seen.has(abs)) return
    seen.add(abs)
    const rel = relative(dir, abs).split(sep).join('/')
    let text: string
    try {
      text = await readFile(abs, 'utf8')
    } catch {
      out.missing.push(rel)
      return
    }
    out.files.push(rel)
    for (const line of logicalLines(text)) {
      const include = /^(?:-[rc]\s*|--(?:requirement|constraint)(?:\s*=\s*|\s+))(\S+)/.exec(line)
      if (include?.[1]) {
        if (!/^[a-z][a-z0-9+.-]*:\/\//i.test(include[1])) {
          await visit(resolve(dirname(abs), expandHome(include[1])))
        }
        continue
      }
      const editable = /^(?:-e|--editable)\b/.test(line)
      for (const token of line.split(/\s+/)) {
        const path = localPath(token.replace(/^-{1,2}[a-z-]+=/i, '').replace(/^-[ef](?=[./~])/, ''))
        if (path) out.local.push({ path: resolve(dir, path), editable })
      }
    }
  }
  await visit(resolve(dir, file))
  return out
}

/** pip's logical lines: continuations joined, comments and blank lines dropped. */
function logicalLines(text: string): string[] {
  return text
    .replace(/\\\r?\n/g, '')
    .split(/\r?\n/)
    .map((line) => line.replace(/(^|\s)#.*$/, '').trim())
    .filter(Boolean)
}

function localPath(token: string): string | undefined {
  if (token.startsWith('file:')) {
    try {
      return token.startsWith('file://') ? fileURLToPath(token.split('#')[0]!) : token.slice(5)
    } catch {
      return undefined
    }
  }
  if (token === '.' || token === '..' || /^(?:\.{1,2}\/|\/|~\/)/.test(token)) {
    return expandHome(token.split(/[;#]/)[0]!)
  }
  return undefined
}

function expandHome(path: string): string {
  return path.startsWith('~/') ? join(homedir(), path.slice(2)) : path
}

/** A local dependency's fingerprint: editable installs only change with their metadata. */
async function hashLocal(path: string, editable: boolean): Promise<string> {
  try {
    if (!(await stat(path)).isDirectory()) return await hashInputs(dirname(path), [basename(path)])
    const metadata = (rel: string) => ['pyproject.toml', 'setup.py', 'setup.cfg'].includes(rel)
    return await hashInputs(path, await listFiles(path, editable ? metadata : undefined))
  } catch {
    return 'missing'
  }
}

/** The installer's environment: runtime-core's base, the variables pip and builds read, and settings. */
export function installEnv(extra: Readonly<Record<string, string>>): Record<string, string> {
  const pip = Object.keys(process.env).filter((k) => k.startsWith('PIP_') && !PIP_REDIRECTS.has(k))
  return functionEnv({ passThrough: [...INSTALL_ENV, ...pip], set: { ...extra } })
}

/** Builds (or finds) the venvs of one adapter: one BuildCache per cache folder, one pip probe per interpreter. */
export class VenvBuilder {
  private readonly caches = new BuildCaches()
  private readonly pips = new Map<string, Promise<boolean>>()

  constructor(private readonly settings: VenvSettings) {}

  /** The venv for `fn`, or undefined when its folder has no requirements.txt. */
  async ensure(fn: FunctionDefinition, ctx: PrepareContext): Promise<PythonVenv | undefined> {
    if (!existsSync(join(fn.dir, REQUIREMENTS))) return undefined
    const key = await this.key(fn, ctx.runtime)
    const root = join(ctx.cacheDir, 'venvs')
    const cache = this.caches.at(root)
    const final = join(root, key)
    const dir = await cache.ensure(key, (tmp) => this.build(fn, ctx, tmp, final))
    return { dir, python: join(dir, 'bin', 'python'), key }
  }

  /**
   * The cache key of `fn`'s venv: a hash of its requirement files (requirements.txt and what it
   * includes), the local paths they name, the interpreter (path and version) and the install settings.
   */
  async key(fn: FunctionDefinition, runtime: RuntimeInfo): Promise<string> {
    const inputs = await requirementInputs(fn.dir)
    const extra = [
      VENV_FORMAT,
      `python:${runtime.bin}`,
      `version:${runtime.version}`,
      `args:${JSON.stringify(this.settings.installArgs)}`,
      `env:${JSON.stringify(this.settings.installEnv)}`,
      ...inputs.missing.map((rel) => `missing:${rel}`),
    ]
    for (const { path, editable } of inputs.local) {
      extra.push(`local:${editable ? '-e ' : ''}${path}=${await hashLocal(path, editable)}`)
    }
    return (await hashInputs(fn.dir, inputs.files, extra)).slice(0, 32)
  }

  /** Installs and cache hits so far, over every cache folder. */
  stats(): BuildCacheStats {
    return this.caches.stats()
  }

  private async build(
    fn: FunctionDefinition,
    ctx: PrepareContext,
    tmp: string,
    final: string,
  ): Promise<void> {
    const deadline = Date.now() + this.settings.timeoutMs
    const env = installEnv(this.settings.installEnv)
    const label = `function "${fn.name}"`
    const step = (what: string, command: string, args: string[]) =>
      runBuildStep({
        spec: { command, args, env, cwd: fn.dir },
        what,
        label,
        timeoutMs: Math.max(1, deadline - Date.now()),
        ...(ctx.signal ? { signal: ctx.signal } : {}),
      })
    const base = ctx.runtime.bin
    // The base interpreter's pip can install into a venv that has none (`pip --python`): creating
    // the venv then takes ~0.2 s instead of the many seconds ensurepip spends installing pip.
    const basePip = await this.hasPip(base, env, fn.dir)
    await step('python -m venv', base, ['-m', 'venv', ...(basePip ? ['--without-pip'] : []), tmp])
    const venvPython = join(tmp, 'bin', 'python')
    const install = [
      'install',
      '--require-virtualenv',
      '--disable-pip-version-check',
      '--no-input',
      '--progress-bar',
      'off',
      ...(this.settings.pipCacheDir === false
        ? ['--no-cache-dir']
        : this.settings.pipCacheDir
          ? ['--cache-dir', this.settings.pipCacheDir]
          : []),
      ...this.settings.installArgs,
      '-r',
      REQUIREMENTS,
    ]
    const what = `pip install -r ${REQUIREMENTS}`
    if (basePip) await step(what, base, ['-m', 'pip', '--python', venvPython, ...install])
    else await step(what, venvPython, ['-m', 'pip', ...install])
    await relocate(tmp, final)
  }

  /** Whether `python` has a pip that knows `--python` (asked once per interpreter). */
  private hasPip(python: string, env: Record<string, string>, cwd: string): Promise<boolean> {
    let known = this.pips.get(python)
    if (!known) {
      known = runProcess(
        { command: python, args: ['-c', 'import pip; print(pip.__version__)'], env, cwd },
        { timeoutMs: 30_000 },
      ).then((result) => {
        if (result.exitCode !== 0) return false
        const [major = 0, minor = 0] = result.stdout
          .toString('utf8')
          .trim()
          .split('.')
          .map((x) => Number.parseInt(x, 10) || 0)
        const [wantMajor = 0, wantMinor = 0] = PIP_PYTHON_OPTION
        return major > wantMajor || (major === wantMajor && minor >= wantMinor)
      })
      this.pips.set(python, known)
    }
    return known
  }
}

/**
 * A venv is built in a temporary folder and renamed into place. Its interpreter does not care
 * (pyvenv.cfg is found next to the executable), but console scripts' shebangs, the activate
 * scripts and pyvenv.cfg name the folder they were made in: point them at the final one.
 */
export async function relocate(from: string, to: string): Promise<void> {
  const bin = join(from, 'bin')
  const files = [join(from, 'pyvenv.cfg'), ...(await readdir(bin)).map((name) => join(bin, name))]
  const needle = Buffer.from(from)
  const replacement = Buffer.from(to)
  for (const file of files) {
    const info = await lstat(file)
    if (!info.isFile() || info.size > 4 * 1024 * 1024) continue
    const content = await readFile(file)
    if (!content.includes(needle)) continue
    const parts: Buffer[] = []
    let start = 0
    for (let at = content.indexOf(needle); at !== -1; at = content.indexOf(needle, start)) {
      parts.push(content.subarray(start, at), replacement)
      start = at + needle.length
    }
    parts.push(content.subarray(start))
    // In place: the file keeps its mode (console scripts stay executable).
    await writeFile(file, Buffer.concat(parts))
  }
}
