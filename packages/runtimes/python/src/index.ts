/**
 * The Python adapter: `protocol: stdio` scripts and `handler(input, ctx)` functions (sync or
 * async) on the machine's python3. The bootstrap shims are shim/bootstrap.py (handlers) and
 * shim/script.py (stdio scripts with a memory limit).
 */
import { join } from 'node:path'
import {
  type AdapterOptions,
  defineAdapter,
  type Requirement,
  type RuntimeAdapter,
  shimPath,
} from '@fn/runtime-core'

/** Options of `python()`. */
export interface PythonOptions extends AdapterOptions {
  /**
   * Import `site` at start: site-packages and their `.pth` files, so installed packages import.
   * `false` adds `-S`: a much faster start (on a machine whose `.pth` files import heavy modules,
   * ~14 ms instead of ~70 ms), for functions that use the standard library only.
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
}

/** What `prepare` hands to `launch`. */
export interface PythonPrepared {
  /** Where compiled bytecode goes (`-X pycache_prefix`). */
  pycache: string
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
export function python(options: PythonOptions = {}): RuntimeAdapter<PythonPrepared | undefined> {
  // -u: unbuffered stdout/stderr, so output reaches the host as written (and before a crash).
  // -X utf8: stdin/stdout speak UTF-8 whatever the locale. No -E: the host environment never
  // reaches a function anyway, so the PYTHON* variables it sees are the ones its fn.yaml declares.
  // No -I: it would drop the script's folder from sys.path and break local imports.
  const flags = ['-u', '-X', 'utf8']
  if (options.site === false) flags.push('-S')
  if (!options.userSite) flags.push('-s')
  const cache = options.bytecodeCache !== false

  return defineAdapter<PythonPrepared | undefined>({
    name: 'python',
    extensions: ['.py'],
    requirement,
    options,
    // python3 may be a pyenv shim (a bash script, ~100 ms a start): ask it for the real interpreter.
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
    prepare: async (_fn, ctx) => (cache ? { pycache: join(ctx.cacheDir, 'pycache') } : undefined),
    launch(fn, ctx) {
      const args = [...flags]
      args.push(...(ctx.prepared ? ['-X', `pycache_prefix=${ctx.prepared.pycache}`] : ['-B']))
      const env: Record<string, string> = {}
      if (fn.memoryMb) env['FN_MEMORY_LIMIT_MB'] = String(fn.memoryMb)
      if (ctx.kind === 'worker') args.push(HANDLER_SHIM, fn.entry)
      else if (fn.memoryMb) args.push(SCRIPT_SHIM, fn.entry)
      else args.push(fn.entry)
      return { args, env }
    },
  })
}
