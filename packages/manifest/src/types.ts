/** A runtime name: `node`, `deno`, `bun`, `python`, `go`, or the name of a third-party adapter. */
export type RuntimeName = string

/** How the host talks to a function: a loaded handler (framed protocol) or one process per call. */
export type Protocol = 'handler' | 'stdio'

/** `warm`: long-lived workers serve many invocations. `oneshot`: one process per invocation. */
export type Mode = 'warm' | 'oneshot'

/**
 * What a function may do. `true` allows everything of that kind, `false` nothing, a list allows
 * the named hosts, paths, variables or commands. Least privilege: everything is `false` unless
 * fn.yaml says otherwise. An empty list is normalized to `false`.
 */
export interface Permissions {
  net: boolean | string[]
  read: boolean | string[]
  write: boolean | string[]
  env: boolean | string[]
  run: boolean | string[]
}

/** Warm worker pool of one function. */
export interface PoolConfig {
  /** Workers kept alive even when idle. Default 0. */
  min: number
  /**
   * Most processes at once (warm workers, or oneshot processes). Default: the machine's available
   * parallelism (`os.availableParallelism()`), or `min` when that is larger.
   */
  max: number
  /** An idle worker above `min` is stopped after this long. Default 60_000. */
  idleTimeoutMs: number
  /** A worker is replaced after serving this many invocations; 0 = unlimited (default). */
  maxRequests: number
  /**
   * Invocations one warm worker runs at once (async handlers, Go). Default 1: one call per
   * process, which is what lets raw stdout/stderr writes be attributed to their call.
   */
  concurrency: number
}

/** A build step run before the function is started (and again when a watched file changes). */
export interface BuildConfig {
  /** The program to run (no shell: put arguments in `args`). */
  command: string
  /** Arguments of `command`. Default `[]`. */
  args: string[]
  /** Glob patterns, relative to the function folder, whose change triggers a rebuild. Default `[]`. */
  watch: string[]
  /** What the build produces, relative to the function folder. */
  output?: string
}

/** One HTTP route a function wants to be reachable at. `method` is upper case or `*` (any). */
export interface Route {
  method: string
  path: string
}

/**
 * fn.yaml as parsed and normalized: every field optional, snake_case keys turned into camelCase,
 * units converted (`timeoutMs`, `memoryMb`, `pool.idleTimeoutMs`), `env` still raw (`${VAR}` not
 * yet interpolated: see `resolveEnv`).
 */
export interface Manifest {
  name?: string
  description?: string
  runtime?: RuntimeName
  /** Relative to the function folder, as written. */
  entry?: string
  protocol?: Protocol
  mode?: Mode
  timeoutMs?: number
  memoryMb?: number
  concurrency?: number
  pool?: Partial<PoolConfig>
  env?: Record<string, string>
  permissions?: Partial<Permissions>
  build?: BuildConfig
  /** Any value; kept as written (`null` included). */
  sampleInput?: unknown
  routes?: Route[]
}

/** One problem found in a manifest or a function folder. */
export interface ManifestIssue {
  /** The fn.yaml (or the function folder when the problem is not inside a file). */
  file: string
  /** 1-based. */
  line?: number
  /** 1-based. */
  column?: number
  /** Field path, e.g. `pool.max`, `env.API_KEY`, `routes[0].path`; `''` for the whole document. */
  path: string
  /** The whole human-readable line, with position, what was found and what is expected. */
  message: string
  found?: unknown
  expected?: string
}

/** A function, ready to be registered: every default filled in, env resolved, paths absolute. */
export interface FunctionDefinition {
  name: string
  /** Absolute path of the function folder. */
  dir: string
  /** Absolute path of the entry file. */
  entry: string
  /** The entry relative to `dir`, with `/` separators. */
  entryRelative: string
  runtime: RuntimeName
  protocol: Protocol
  mode: Mode
  timeoutMs: number
  memoryMb?: number
  concurrency?: number
  pool: PoolConfig
  /** Resolved: `${VAR}` replaced by the host value. Only these variables reach the function. */
  env: Record<string, string>
  permissions: Permissions
  build?: BuildConfig
  description?: string
  sampleInput?: unknown
  routes?: Route[]
  /** Absolute path of the fn.yaml, when the folder has one. */
  manifestFile?: string
}

export interface LoadOptions {
  /**
   * Runtime for a `.ts`/`.tsx` entry whose folder does not say which runtime it is for
   * (no deno.json, bunfig.toml, bun.lock or telling package.json). Default: none, which is an error.
   */
  defaultRuntime?: RuntimeName
  /**
   * Extra entry extensions and their runtime, for third-party adapters: `{ '.rb': 'ruby' }`.
   * They are also tried as `index.*`, `main.*` and `handler.*` entries, after the built-in ones.
   * A built-in extension given here overrides the built-in rule (`{ '.ts': 'deno' }`).
   */
  extensions?: Record<string, RuntimeName>
  /** Environment `${VAR}` reads from. Default `process.env`. */
  hostEnv?: Record<string, string | undefined>
  /** Defaults for fields fn.yaml does not set. */
  defaults?: {
    /** Default 30_000. */
    timeoutMs?: number
  }
}
