/**
 * The Python adapter: `protocol: stdio` scripts and `handler(input, ctx)` functions (sync or
 * async) on the machine's python3. The bootstrap shims are shim/bootstrap.py (handlers) and
 * shim/script.py (stdio scripts with a memory limit). A function folder with requirements.txt
 * runs in a virtual environment built at prepare time (src/venv.ts).
 */
import { existsSync, readFileSync } from 'node:fs'
import { basename, delimiter, dirname, join } from 'node:path'
import type { FunctionDefinition } from '@fn/manifest'
import {
  type AdapterOptions,
  type BuildCacheStats,
  defineAdapter,
  hashInputs,
  listFiles,
  type PrepareContext,
  type Requirement,
  type RuntimeAdapter,
  shimPath,
  which,
} from '@fn/runtime-core'
import { type PythonVenv, VenvBuilder } from './venv'

export type { PythonVenv } from './venv'

/** Options of `python()`. */
export interface PythonOptions extends AdapterOptions {
  /**
   * Import `site` at start: site-packages and their `.pth` files, so installed packages import.
   * `false` adds `-S`: a much faster start (on a machine whose `.pth` files import heavy modules,
   * ~14 ms instead of ~70 ms), for functions that use the standard library only. Functions with
   * a requirements.txt always import `site` (their venv's packages would not import otherwise).
   * Default true.
   */
  site?: boolean
  /**
   * Let the user site-packages (`pip install --user`, `~/.local/lib/pythonX.Y`) in. Off, functions
   * see only what is installed into the interpreter (or the venv passed as `bin`). Default false (`-s`).
   */
  userSite?: boolean
  /**
   * Cache compiled bytecode under the adapter's cache folder (`-X pycache_prefix`), never in the
   * function folder; `false` compiles on every start (`-B`). Default true.
   */
  bytecodeCache?: boolean
  /**
   * Extra `pip install` arguments for functions with a requirements.txt, e.g.
   * `['--only-binary', ':all:']`. Part of the venv's cache key. Default `[]`.
   */
  installArgs?: string[]
  /**
   * Variables for `python -m venv` and `pip install` only, over the host's pip settings (e.g.
   * `{ PIP_INDEX_URL: 'https://pypi.example.com/simple' }`). Never reach the function. Part of the
   * venv's cache key. Default `{}`.
   */
  installEnv?: Record<string, string>
  /** Creating a venv and installing into it fails with BUILD_FAILED after this long. Default 300 000 ms (5 min). */
  installTimeoutMs?: number
  /**
   * pip's download and wheel cache: a folder (`--cache-dir`), or `false` for none
   * (`--no-cache-dir`). Default: pip's own (`PIP_CACHE_DIR`, else `~/.cache/pip`), shared with
   * every other pip on the machine.
   */
  pipCacheDir?: string | false
}

/** What `prepare` hands to `launch`. */
export interface PythonPrepared {
  /** Where compiled bytecode goes (`-X pycache_prefix`); undefined with `bytecodeCache: false`. */
  pycache?: string
  /** The function's virtual environment, when its folder has a requirements.txt. */
  venv?: PythonVenv
}

/** The Python adapter, with install counters for tests and diagnostics. */
export interface PythonAdapter extends RuntimeAdapter<PythonPrepared> {
  /** Finds or builds the function's venv (if it has a requirements.txt); rejects with BUILD_FAILED. */
  prepare(fn: FunctionDefinition, ctx: PrepareContext): Promise<PythonPrepared>
  /** Venvs built (`builds`) and found in the cache (`hits`) so far, over every cache folder. */
  installStats(): BuildCacheStats
}

export const requirement: Requirement = {
  bin: 'python3',
  minVersion: '3.9',
  install:
    'Debian/Ubuntu: sudo apt-get install python3; macOS: brew install python3; or pyenv install 3.12',
}

const HANDLER_SHIM = shimPath(import.meta.url, 'bootstrap.py')
const SCRIPT_SHIM = shimPath(import.meta.url, 'script.py')

/** The fn adapter for Python 3.9+: `createExecutor({ runtimes: [python()] })`. */
export function python(options: PythonOptions = {}): PythonAdapter {
  // -u: unbuffered stdout/stderr, so output reaches the host as written (and before a crash).
  // -X utf8: stdin/stdout speak UTF-8 whatever the locale. No -E: the host environment never
  // reaches a function anyway, so the PYTHON* variables it sees are the ones its fn.yaml declares.
  // No -I: it would drop the script's folder from sys.path and break local imports.
  const flags = ['-u', '-X', 'utf8']
  const noSite = options.site === false
  if (!options.userSite) flags.push('-s')
  const cache = options.bytecodeCache !== false
  const venvs = new VenvBuilder({
    installArgs: [...(options.installArgs ?? [])],
    installEnv: { ...options.installEnv },
    timeoutMs: options.installTimeoutMs ?? 300_000,
    pipCacheDir: options.pipCacheDir,
  })

  async function prepare(fn: FunctionDefinition, ctx: PrepareContext): Promise<PythonPrepared> {
    const prepared: PythonPrepared = {}
    if (cache) {
      // Python trusts a .pyc whose source has the same size and mtime in whole seconds: an edit
      // within the same second (a hot reload) would run stale bytecode. A prefix per content of
      // the function's .py files rules that out; prepare runs once per (re)load, not per call.
      const sources = await listFiles(fn.dir, (rel) => rel.endsWith('.py'))
      prepared.pycache = join(
        ctx.cacheDir,
        'pycache',
        (await hashInputs(fn.dir, sources)).slice(0, 16),
      )
    }
    const venv = await venvs.ensure(fn, ctx)
    if (venv) prepared.venv = venv
    return prepared
  }

  const adapter = defineAdapter<PythonPrepared>({
    name: 'python',
    extensions: ['.py'],
    requirement,
    // A pyenv shim costs ~100 ms a start, paid by fn serve's start-up: read what it would run.
    options: options.bin ? options : { ...options, ...pyenvTarget(which('python3')) },
    // python3 may still be a wrapper of another kind: ask it for the real interpreter.
    probe: {
      args: ['-c', 'import sys, platform; print(sys.executable); print(platform.python_version())'],
      parse(stdout) {
        const [bin, version] = stdout
          .trim()
          .split('\n')
          .map((line) => line.trim())
        if (!bin || !version || !/^\d+\.\d+/.test(version)) return undefined
        return { bin, version }
      },
    },
    prepare,
    launch(fn, ctx) {
      const venv = ctx.prepared?.venv
      const args = noSite && !venv ? [...flags, '-S'] : [...flags]
      const pycache = ctx.prepared?.pycache
      args.push(...(pycache ? ['-X', `pycache_prefix=${pycache}`] : ['-B']))
      const env: Record<string, string> = {}
      if (fn.memoryMb) env['FN_MEMORY_LIMIT_MB'] = String(fn.memoryMb)
      if (ctx.kind === 'worker') args.push(HANDLER_SHIM, fn.entry)
      else if (fn.memoryMb) args.push(SCRIPT_SHIM, fn.entry)
      else args.push(fn.entry)
      if (!venv) return { args, env }
      // As `source <venv>/bin/activate` would: `python` and the packages' console scripts on PATH
      // are the venv's, for the function and the processes it starts.
      env['VIRTUAL_ENV'] = venv.dir
      env['PATH'] =
        `${join(venv.dir, 'bin')}${delimiter}${process.env['PATH'] ?? '/usr/local/bin:/usr/bin:/bin'}`
      return { command: venv.python, args, env }
    },
  })

  return Object.assign(adapter as RuntimeAdapter<PythonPrepared> & Pick<PythonAdapter, 'prepare'>, {
    installStats: (): BuildCacheStats => venvs.stats(),
  })
}

/**
 * The interpreter a pyenv shim (`~/.pyenv/shims/python3`) would run, found the way pyenv finds
 * it: PYENV_VERSION, else the nearest `.python-version` from the current folder up, else pyenv's
 * global `version` file. Nothing when `onPath` is no pyenv shim or the version is not installed.
 */
function pyenvTarget(onPath: string | undefined): { bin: string } | Record<string, never> {
  if (!onPath || basename(dirname(onPath)) !== 'shims') return {}
  const root = dirname(dirname(onPath))
  let version = process.env['PYENV_VERSION']
  for (let dir = process.cwd(); !version; dir = dirname(dir)) {
    version = readText(join(dir, '.python-version'))
    if (dirname(dir) === dir) break
  }
  version ??= readText(join(root, 'version'))
  const name = version?.split(/\s+/).find(Boolean)
  const bin = name && name !== 'system' ? join(root, 'versions', name, 'bin', 'python3') : ''
  return bin && existsSync(bin) ? { bin } : {}
}

function readText(path: string): string | undefined {
  try {
    return readFileSync(path, 'utf8')
  } catch {
    return undefined
  }
}
