/**
 * Per-function dependencies declared in a package.json (node with npm, bun with bun install):
 * installed once per distinct set of dependencies into `<cacheDir>/deps-<key>/node_modules`
 * (content-addressed, shared between functions, kept across restarts), and reached from the
 * function through a `node_modules` symlink in its folder.
 *
 * Shared by @fn/runtime-node and @fn/runtime-bun; each says how to run its installer (PackageTool).
 */
import { randomBytes } from 'node:crypto'
import {
  chmod,
  copyFile,
  lstat,
  mkdir,
  readFile,
  readlink,
  rename,
  stat,
  symlink,
  unlink,
  writeFile,
} from 'node:fs/promises'
import { delimiter, dirname, join, resolve } from 'node:path'
import type { FunctionDefinition } from '@fn/manifest'
import { FnError } from '@fn/protocol'
import type { PrepareContext, RuntimeInfo } from './adapter'
import { runBuildStep } from './build'
import { type BuildCacheStats, BuildCaches, hashInputs } from './cache'
import { functionEnv, NETWORK_ENV } from './env'

/** Bumped when the way an install is made changes what ends up in it. */
const FORMAT = 'fn-package-deps-1'

/** The package.json fields an install depends on: the rest (name, scripts, type ...) is not part of the key. */
export const INSTALL_FIELDS: readonly string[] = [
  'dependencies',
  'devDependencies',
  'optionalDependencies',
  'peerDependencies',
  'peerDependenciesMeta',
  'overrides',
  'resolutions',
  'trustedDependencies',
]

/** Fields whose entries are installed in production (devDependencies are not). */
const INSTALLED = ['dependencies', 'optionalDependencies', 'peerDependencies']

/** Host variables every installer gets, besides runtime-core's base (PATH, HOME, LANG ...). */
export const INSTALL_ENV: readonly string[] = [
  ...NETWORK_ENV,
  'NODE_EXTRA_CA_CERTS',
  'XDG_CACHE_HOME',
  'XDG_CONFIG_HOME',
  // git dependencies
  'SSH_AUTH_SOCK',
  'GIT_SSH',
  'GIT_SSH_COMMAND',
  // native addons built by install scripts (node-gyp)
  'CC',
  'CXX',
  'CFLAGS',
  'CXXFLAGS',
  'LDFLAGS',
  'PYTHON',
  'MAKEFLAGS',
]

/** `npm_config_*` settings that would send the install somewhere else, or are not the user's: never passed. */
const CONFIG_DENIED = new Set([
  'user_agent',
  'global',
  'location',
  'prefix',
  'dry_run',
  'package_lock_only',
  'workspace',
  'workspaces',
  'include_workspace_root',
])

/** How one package manager installs. */
export interface PackageTool {
  /** For messages and the key: 'npm', 'bun'. */
  name: string
  /** Lockfiles it installs from exactly (frozen), by preference; the first one present is used. */
  lockfiles: readonly string[]
  /** Files beside package.json that configure the install (copied, part of the key): '.npmrc'. */
  configFiles: readonly string[]
  /** Host variable prefixes the installer gets besides npm_config_* / NPM_CONFIG_*: 'BUN_'. */
  envPrefixes: readonly string[]
  /** Strings naming the tool for the cache key (its version); asked once per runtime. */
  identity(runtime: RuntimeInfo): Promise<string[]>
  /** The install command, run in a folder holding package.json (and the lockfile, if any). */
  command(
    runtime: RuntimeInfo,
    options: { lockfile: string | undefined; scripts: boolean; args: readonly string[] },
  ): Promise<{ command: string; args: string[]; what: string }>
}

export interface PackageDepsSettings {
  /** Run the lifecycle scripts of dependencies (and of nothing else). */
  scripts: boolean
  /** Extra installer arguments. */
  args: readonly string[]
  /** Variables for the installer only, over the host's. */
  env: Readonly<Record<string, string>>
  timeoutMs: number
}

/** A function's installed dependencies. */
export interface InstalledDeps {
  /** `<cacheDir>/deps-<key>`. */
  dir: string
  /** `<dir>/node_modules`: what the function folder's `node_modules` links to. */
  nodeModules: string
  /** The cache key: a hash of the install fields of package.json, the lockfile, config files, runtime and tool. */
  key: string
}

/** What a function folder declares, read from its package.json. */
interface Declared {
  /** The install fields only, keys sorted: the package.json written into the install folder. */
  manifest: Record<string, unknown>
  lockfile: string | undefined
  configFiles: string[]
}

/** Installs (or finds) the dependencies of package.json functions, for one adapter. */
export class PackageDeps {
  private readonly caches = new BuildCaches()
  private readonly identities = new Map<string, Promise<string[]>>()

  constructor(
    private readonly tool: PackageTool,
    private readonly settings: PackageDepsSettings,
  ) {}

  /**
   * The dependencies of `fn`, installed; undefined when its package.json declares none, or its
   * folder has a `node_modules` of its own (used as it is). Rejects with BUILD_FAILED.
   */
  async ensure(fn: FunctionDefinition, ctx: PrepareContext): Promise<InstalledDeps | undefined> {
    const link = join(fn.dir, 'node_modules')
    const declared = await this.declared(fn)
    const current = await linkState(link)
    if (!declared) {
      // Dependencies removed: a link left from before must not keep them importable.
      if (current.kind === 'ours') await unlink(link).catch(() => {})
      return undefined
    }
    if (current.kind === 'user') return undefined
    const key = await this.key(fn, declared, ctx.runtime)
    const root = resolve(ctx.cacheDir)
    const cache = this.caches.at(root)
    const dir = await cache.ensure(`deps-${key}`, (tmp) => this.install(fn, ctx, declared, tmp))
    const nodeModules = join(dir, 'node_modules')
    if (current.kind !== 'ours' || current.target !== nodeModules) {
      await pointLink(fn, link, nodeModules)
    }
    return { dir, nodeModules, key }
  }

  /** Installs and cache hits so far, over every cache folder. */
  stats(): BuildCacheStats {
    return this.caches.stats()
  }

  private async declared(fn: FunctionDefinition): Promise<Declared | undefined> {
    let text: string
    try {
      text = await readFile(join(fn.dir, 'package.json'), 'utf8')
    } catch {
      return undefined
    }
    let pkg: Record<string, unknown>
    try {
      const parsed: unknown = JSON.parse(text)
      if (!isRecord(parsed)) throw new Error('not a JSON object')
      pkg = parsed
    } catch (err) {
      throw new FnError(
        'BUILD_FAILED',
        `[fn] function "${fn.name}": ${join(fn.dir, 'package.json')} is not valid: ${(err as Error).message}`,
        { cause: err },
      )
    }
    const installs = INSTALLED.some((field) => {
      const deps = pkg[field]
      return isRecord(deps) && Object.keys(deps).length > 0
    })
    if (!installs) return undefined
    checkNotLocal(fn, pkg)
    const manifest: Record<string, unknown> = { name: 'fn-deps', private: true }
    for (const field of INSTALL_FIELDS) {
      if (pkg[field] !== undefined) manifest[field] = sortKeys(pkg[field])
    }
    const present = async (file: string) => ((await isFile(join(fn.dir, file))) ? file : undefined)
    let lockfile: string | undefined
    for (const file of this.tool.lockfiles) {
      lockfile = await present(file)
      if (lockfile) break
    }
    const configFiles: string[] = []
    for (const file of this.tool.configFiles) {
      if (await present(file)) configFiles.push(file)
    }
    return { manifest, lockfile, configFiles }
  }

  /** The cache key: what the install depends on, and nothing about the function itself. */
  private async key(
    fn: FunctionDefinition,
    declared: Declared,
    runtime: RuntimeInfo,
  ): Promise<string> {
    let identity = this.identities.get(runtime.bin)
    if (!identity) {
      identity = this.tool.identity(runtime)
      this.identities.set(runtime.bin, identity)
      identity.catch(() => this.identities.delete(runtime.bin))
    }
    const extra = [
      FORMAT,
      `tool:${this.tool.name}`,
      ...(await identity),
      `runtime:${runtime.name} ${runtime.version} ${process.platform}-${process.arch}`,
      `scripts:${this.settings.scripts}`,
      `args:${JSON.stringify(this.settings.args)}`,
      `env:${JSON.stringify(sortKeys(this.settings.env))}`,
      `package.json:${JSON.stringify(declared.manifest)}`,
    ]
    const files = [...(declared.lockfile ? [declared.lockfile] : []), ...declared.configFiles]
    return (await hashInputs(fn.dir, files, extra)).slice(0, 32)
  }

  private async install(
    fn: FunctionDefinition,
    ctx: PrepareContext,
    declared: Declared,
    tmp: string,
  ): Promise<void> {
    await writeFile(join(tmp, 'package.json'), `${JSON.stringify(declared.manifest, null, 2)}\n`)
    for (const file of [
      ...(declared.lockfile ? [declared.lockfile] : []),
      ...declared.configFiles,
    ]) {
      // Config files may hold registry tokens: readable by their owner only.
      await copyFile(join(fn.dir, file), join(tmp, file))
      if (file !== declared.lockfile) await chmod(join(tmp, file), 0o600)
    }
    const { command, args, what } = await this.tool.command(ctx.runtime, {
      lockfile: declared.lockfile,
      scripts: this.settings.scripts,
      args: this.settings.args,
    })
    await runBuildStep({
      spec: { command, args, env: this.env(ctx.runtime), cwd: tmp },
      what,
      label: `function "${fn.name}" (${join(fn.dir, 'package.json')})`,
      timeoutMs: this.settings.timeoutMs,
      ...(ctx.signal ? { signal: ctx.signal } : {}),
    })
    // Nothing to install for this platform (optional dependencies only) still links somewhere.
    await mkdir(join(tmp, 'node_modules'), { recursive: true })
  }

  /** The installer's environment: never the function's, and only what installing needs. */
  private env(runtime: RuntimeInfo): Record<string, string> {
    const prefixes = ['npm_config_', 'NPM_CONFIG_', ...this.tool.envPrefixes]
    const passed = Object.keys(process.env).filter((name) => {
      const prefix = prefixes.find((p) => name.startsWith(p))
      if (!prefix) return false
      return !(
        prefix.toLowerCase() === 'npm_config_' &&
        CONFIG_DENIED.has(name.slice(prefix.length).toLowerCase().replaceAll('-', '_'))
      )
    })
    const env = functionEnv({
      passThrough: [...INSTALL_ENV, ...passed],
      set: { NO_COLOR: '1', ...this.settings.env },
    })
    // Install scripts run `node`: the same one the function runs on.
    env['PATH'] = `${dirname(runtime.bin)}${delimiter}${env['PATH']}`
    return env
  }
}

type LinkState = { kind: 'none' } | { kind: 'ours'; target: string } | { kind: 'user' }

/** Whether `<fn>/node_modules` is missing, a link this module made, or the user's own. */
async function linkState(path: string): Promise<LinkState> {
  try {
    const info = await lstat(path)
    if (!info.isSymbolicLink()) return { kind: 'user' }
    const target = await readlink(path)
    return isOurs(target) ? { kind: 'ours', target } : { kind: 'user' }
  } catch {
    return { kind: 'none' }
  }
}

/** A link into a cache entry of this module: `.../deps-<32 hex>/node_modules`. */
function isOurs(target: string): boolean {
  return /[/\\]deps-[0-9a-f]{32}[/\\]node_modules$/.test(target)
}

/** Points `<fn>/node_modules` at `target`, atomically (a new link renamed over the old one). */
async function pointLink(fn: FunctionDefinition, link: string, target: string): Promise<void> {
  const tmp = `${link}.fn-${process.pid}-${randomBytes(4).toString('hex')}`
  try {
    await symlink(target, tmp, 'junction')
    await rename(tmp, link)
  } catch (err) {
    await unlink(tmp).catch(() => {})
    // Another prepare of the same function linked it first, to the same place: fine.
    const now = await linkState(link)
    if (now.kind === 'ours' && now.target === target) return
    throw new FnError(
      'BUILD_FAILED',
      `[fn] function "${fn.name}": could not link ${link} to its installed dependencies (${target}): ${(err as Error).message}. Make the function folder writable, or install the dependencies yourself in it: a node_modules of its own is used as it is`,
      { cause: err },
    )
  }
}

/**
 * A dependency on a local path cannot be installed in a shared cache folder (the path is relative
 * to the function): such a function installs its own node_modules.
 */
function checkNotLocal(fn: FunctionDefinition, pkg: Record<string, unknown>): void {
  if (pkg['workspaces'] !== undefined) {
    throw localError(fn, 'declares workspaces')
  }
  for (const field of INSTALL_FIELDS) {
    const deps = pkg[field]
    if (!isRecord(deps)) continue
    for (const [name, spec] of Object.entries(deps)) {
      if (typeof spec === 'string' && isLocalSpec(spec)) {
        throw localError(fn, `depends on "${name}" at "${spec}", a local path`)
      }
    }
  }
}

function isLocalSpec(spec: string): boolean {
  return /^(?:file:|link:|workspace:|portal:|patch:|\.\.?(?:\/|$)|\/|~\/)/.test(spec.trim())
}

function localError(fn: FunctionDefinition, what: string): FnError {
  return new FnError(
    'BUILD_FAILED',
    `[fn] function "${fn.name}": ${join(fn.dir, 'package.json')} ${what}, which fn cannot install in its shared dependency cache: install the dependencies yourself in ${fn.dir} (a node_modules of its own is used as it is)`,
  )
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value)
}

/** A copy with object keys sorted, recursively: equal declarations give equal keys. */
function sortKeys(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(sortKeys)
  if (!isRecord(value)) return value
  return Object.fromEntries(
    Object.keys(value)
      .sort()
      .map((k) => [k, sortKeys(value[k])]),
  )
}

async function isFile(path: string): Promise<boolean> {
  try {
    return (await stat(path)).isFile()
  } catch {
    return false
  }
}
