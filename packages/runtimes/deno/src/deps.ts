/**
 * Per-function dependencies of deno functions: the npm:, jsr: and https: entries of a deno.json(c)
 * `imports` / `scopes`, fetched at prepare time with `deno install` into Deno's own cache
 * (DENO_DIR, shared by design). A stamp folder per distinct set of dependencies,
 * `<cacheDir>/deps-<key>`, holds the lockfile the install resolved: a second prepare finds it and
 * runs nothing, and the function runs with that lockfile (`--lock`), so it loads exactly what was
 * installed and writes no deno.lock into the function folder.
 */
import { existsSync } from 'node:fs'
import { copyFile, readFile, rm } from 'node:fs/promises'
import { homedir } from 'node:os'
import { dirname, join, relative, resolve, sep } from 'node:path'
import type { FunctionDefinition } from '@fn/manifest'
import {
  type BuildCacheStats,
  BuildCaches,
  functionEnv,
  hashInputs,
  NETWORK_ENV,
  type PrepareContext,
  runBuildStep,
} from '@fn/runtime-core'

/** Bumped when the way an install is made changes what ends up in it. */
const FORMAT = 'fn-deno-deps-1'

/** Host variables `deno install` gets, besides runtime-core's base (PATH, HOME, LANG ...). */
export const INSTALL_ENV: readonly string[] = [
  'DENO_DIR',
  'DENO_AUTH_TOKENS',
  'DENO_CERT',
  'DENO_TLS_CA_STORE',
  'NPM_CONFIG_REGISTRY',
  'npm_config_registry',
  'JSR_URL',
  ...NETWORK_ENV,
]

export interface DenoDepsSettings {
  /** Extra `deno install` arguments. */
  args: readonly string[]
  /** Variables for `deno install` only, over the host's. */
  env: Readonly<Record<string, string>>
  timeoutMs: number
}

/** A function's installed dependencies. */
export interface DenoDeps {
  /** The stamp folder, `<cacheDir>/deps-<key>`. */
  dir: string
  /** The lockfile the install resolved, given to the function with `--lock`; undefined with `"lock": false`. */
  lock: string | undefined
  /** The Deno cache the packages are in: the function runs with this DENO_DIR. */
  denoDir: string
  /** A hash of the config and lock files, the Deno version and DENO_DIR. */
  key: string
}

/** Fetches (or finds) the dependencies of deno functions, for one adapter. */
export class DenoDepsInstaller {
  private readonly caches = new BuildCaches()

  constructor(private readonly settings: DenoDepsSettings) {}

  /**
   * The dependencies of `fn` (whose config is `config`), installed; undefined when the config
   * declares no remote imports. Rejects with BUILD_FAILED.
   */
  async ensure(
    fn: FunctionDefinition,
    config: string | undefined,
    ctx: PrepareContext,
  ): Promise<DenoDeps | undefined> {
    if (!config) return undefined
    const declared = await readConfig(config)
    if (!declared?.remote) return undefined
    const env = this.env()
    // Absolute, and the same for the install and the function (their working folders differ).
    const denoDir = resolve(env['DENO_DIR'] ?? defaultDenoDir(env))
    env['DENO_DIR'] = denoDir
    const lockSource = declared.lock === false ? undefined : resolve(dirname(config), declared.lock)
    const files = [config, ...(lockSource && existsSync(lockSource) ? [lockSource] : [])]
    const key = (
      await hashInputs(
        fn.dir,
        files.map((file) => relative(fn.dir, file).split(sep).join('/')),
        [
          FORMAT,
          `deno:${ctx.runtime.version} ${process.platform}-${process.arch}`,
          `deno_dir:${denoDir}`,
          `lock:${declared.lock === false ? 'none' : 'file'}`,
          `args:${JSON.stringify(this.settings.args)}`,
          `env:${JSON.stringify(Object.entries(this.settings.env).sort())}`,
        ],
      )
    ).slice(0, 32)
    const root = resolve(ctx.cacheDir)
    const cache = this.caches.at(root)
    const stamp = join(root, `deps-${key}`)
    // A stamp outlives the Deno cache it describes (`deno clean`, a new machine image): refetch.
    if (!existsSync(denoDir) && existsSync(stamp)) await rm(stamp, { recursive: true, force: true })
    const dir = await cache.ensure(`deps-${key}`, async (tmp) => {
      const lock = join(tmp, 'deno.lock')
      if (files[1]) await copyFile(files[1], lock)
      await runBuildStep({
        spec: {
          command: ctx.runtime.bin,
          args: [
            'install',
            `--config=${config}`,
            declared.lock === false ? '--no-lock' : `--lock=${lock}`,
            ...this.settings.args,
          ],
          env,
          cwd: dirname(config),
        },
        what: 'deno install',
        label: `function "${fn.name}" (${config})`,
        timeoutMs: this.settings.timeoutMs,
        ...(ctx.signal ? { signal: ctx.signal } : {}),
      })
    })
    const lock = join(dir, 'deno.lock')
    return { dir, lock: existsSync(lock) ? lock : undefined, denoDir, key }
  }

  /** Installs and cache hits so far, over every cache folder. */
  stats(): BuildCacheStats {
    return this.caches.stats()
  }

  /** The installer's environment: never the function's, and only what fetching needs. */
  private env(): Record<string, string> {
    const env = functionEnv({
      passThrough: INSTALL_ENV,
      set: { NO_COLOR: '1', DENO_NO_UPDATE_CHECK: '1', DENO_NO_PROMPT: '1' },
    })
    // Deno trusts only its bundled Mozilla roots by default; npm, pip and curl trust the
    // machine's store too (a company proxy's CA is usually there). Unless told otherwise: both.
    if (env['DENO_TLS_CA_STORE'] === undefined && env['DENO_CERT'] === undefined) {
      env['DENO_TLS_CA_STORE'] = 'system,mozilla'
    }
    return { ...env, ...this.settings.env }
  }
}

/** Where Deno caches when DENO_DIR is not set (XDG_CACHE_HOME never reaches deno from fn). */
function defaultDenoDir(env: Record<string, string>): string {
  const home = env['HOME'] ?? homedir()
  if (process.platform === 'darwin') return join(home, 'Library', 'Caches', 'deno')
  if (process.platform === 'win32' && env['LOCALAPPDATA']) return join(env['LOCALAPPDATA'], 'deno')
  return join(home, '.cache', 'deno')
}

/** What a deno.json(c) declares: whether it imports anything remote, and its lockfile. */
async function readConfig(
  path: string,
): Promise<{ remote: boolean; lock: string | false } | undefined> {
  let config: unknown
  try {
    config = JSON.parse(stripJsonc(await readFile(path, 'utf8')))
  } catch {
    // Deno reports an invalid config itself, when the function loads.
    return undefined
  }
  if (!isRecord(config)) return undefined
  const specifiers: unknown[] = []
  if (isRecord(config['imports'])) specifiers.push(...Object.values(config['imports']))
  if (isRecord(config['scopes'])) {
    for (const scope of Object.values(config['scopes'])) {
      if (isRecord(scope)) specifiers.push(...Object.values(scope))
    }
  }
  const remote = specifiers.some((s) => typeof s === 'string' && /^(?:npm:|jsr:|https?:)/.test(s))
  const lock = config['lock']
  const lockPath =
    lock === false
      ? false
      : typeof lock === 'string'
        ? lock
        : isRecord(lock) && typeof lock['path'] === 'string'
          ? lock['path']
          : 'deno.lock'
  return { remote, lock: lockPath }
}

/** JSON with comments and trailing commas (deno.jsonc) as plain JSON. */
export function stripJsonc(text: string): string {
  return dropTrailingCommas(dropComments(text))
}

/** Drops line and block comments outside strings. */
function dropComments(text: string): string {
  let out = ''
  let i = 0
  while (i < text.length) {
    const c = text[i] as string
    if (c === '"') {
      let j = i + 1
      while (j < text.length && text[j] !== '"') j += text[j] === '\\' ? 2 : 1
      out += text.slice(i, j + 1)
      i = j + 1
    } else if (c === '/' && (text[i + 1] === '/' || text[i + 1] === '*')) {
      if (text[i + 1] === '/') {
        while (i < text.length && text[i] !== '\n') i++
      } else {
        const end = text.indexOf('*/', i + 2)
        i = end === -1 ? text.length : end + 2
        out += ' '
      }
    } else {
      out += c
      i++
    }
  }
  return out
}

/** Drops a comma that only whitespace separates from a closing bracket (outside strings). */
function dropTrailingCommas(json: string): string {
  let out = ''
  for (let i = 0; i < json.length; i++) {
    const c = json[i] as string
    if (c === '"') {
      let j = i + 1
      while (j < json.length && json[j] !== '"') j += json[j] === '\\' ? 2 : 1
      out += json.slice(i, j + 1)
      i = j
      continue
    }
    if (c === ',') {
      let j = i + 1
      while (j < json.length && /\s/.test(json[j] as string)) j++
      if (json[j] === '}' || json[j] === ']') continue
    }
    out += c
  }
  return out
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value)
}
