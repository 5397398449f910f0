import * as v from 'valibot'
import { ENV_NAME_PATTERN, ENV_VALUE_EXPECTED, parseTemplate } from './env'
import type { BuildConfig, Mode, Permissions, PoolConfig, Protocol, Route } from './types'
import { DURATION_EXPECTED, SIZE_EXPECTED, tryDuration, trySize } from './units'

/** Function names: a lowercase letter, then up to 62 lowercase letters, digits, `-` or `_`. */
export const NAME_PATTERN: RegExp = /^[a-z][a-z0-9_-]{0,62}$/

export const NAME_EXPECTED =
  'a name of 1 to 63 characters: a lowercase letter, then lowercase letters, digits, "-" or "_"'
const RUNTIME_PATTERN = /^[a-z][a-z0-9._-]{0,62}$/
const RUNTIME_EXPECTED =
  'a runtime name such as "node", "deno", "bun", "python" or "go" (lowercase letters, digits, ".", "-", "_")'
export const RELATIVE_PATH_EXPECTED =
  'a path relative to the function folder that stays inside it (no absolute path, no "..")'
const POSITIVE_INT = 'a whole number of 1 or more'
const NON_NEGATIVE_INT = 'a whole number of 0 or more'
const PERMISSION_EXPECTED =
  'true, false or a list of non-empty strings (hosts, paths, variable names or commands)'
const COMMAND_EXPECTED = 'the program to run, a non-empty string such as "go" or "npm"'
const STRING_LIST = 'a list of non-empty strings'
export const HTTP_METHODS = ['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS'] as const
const METHOD_EXPECTED = `an HTTP method (${HTTP_METHODS.join(', ')}) or "*" for any`
const ROUTE_EXPECTED = 'a route: "GET /path", "/path" (any method) or { method: GET, path: /path }'
const ROUTE_PATH_EXPECTED = 'a path starting with "/", such as "/users/:id"'

/** Keys fn.yaml knows, at each level, in the order the README documents them. */
export const TOP_KEYS = [
  'name',
  'description',
  'runtime',
  'entry',
  'protocol',
  'mode',
  'timeout',
  'memory',
  'concurrency',
  'pool',
  'env',
  'permissions',
  'build',
  'sample_input',
  'routes',
] as const
export const POOL_KEYS = ['min', 'max', 'idle_timeout', 'max_requests', 'concurrency'] as const
export const PERMISSION_KEYS = ['net', 'read', 'write', 'env', 'run'] as const
export const BUILD_KEYS = ['command', 'args', 'watch', 'output'] as const
export const ROUTE_KEYS = ['method', 'path'] as const

/** What a required field that is missing should have been (list indexes written `[]`). */
export const REQUIRED_EXPECTED: Record<string, string> = {
  'build.command': COMMAND_EXPECTED,
  'routes[].path': ROUTE_PATH_EXPECTED,
}

/** True for a relative path that does not climb out of its folder (checked again on disk). */
export function isInsidePath(path: string): boolean {
  if (path === '' || path.includes('\0')) return false
  if (path.startsWith('/') || path.startsWith('\\') || /^[A-Za-z]:/.test(path)) return false
  let depth = 0
  for (const segment of path.split(/[\\/]+/)) {
    if (segment === '..') depth--
    else if (segment !== '.' && segment !== '') depth++
    if (depth < 0) return false
  }
  return depth > 0
}

const nonEmptyString = (expected: string) =>
  v.pipe(
    v.string(expected),
    v.check((s) => s.trim() !== '', expected),
  )

const isMapping = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' && value !== null && !Array.isArray(value)

/** valibot objects and records also take arrays; a YAML list is never a mapping. */
const mapping = <T extends v.GenericSchema>(schema: T, expected: string) =>
  v.pipe(v.custom<unknown>(isMapping, expected), schema)

const relativePath = v.pipe(
  v.string(RELATIVE_PATH_EXPECTED),
  v.check(isInsidePath, RELATIVE_PATH_EXPECTED),
)

function duration(min: number) {
  return v.pipe(
    v.union([v.string(), v.number()], DURATION_EXPECTED),
    v.rawTransform(({ dataset, addIssue, NEVER }) => {
      const parsed = tryDuration(dataset.value)
      if (!parsed.ok) {
        addIssue({ message: parsed.expected })
        return NEVER
      }
      if (parsed.value < min) {
        addIssue({ message: `a duration of at least ${min}ms` })
        return NEVER
      }
      return parsed.value
    }),
  )
}

const wholeNumber = (min: number, expected: string) =>
  v.pipe(v.number(expected), v.safeInteger(expected), v.minValue(min, expected))

const stringList = v.array(nonEmptyString(STRING_LIST), STRING_LIST)

const permission = v.pipe(
  v.union([v.boolean(), v.array(nonEmptyString(PERMISSION_EXPECTED))], PERMISSION_EXPECTED),
  v.transform((value): boolean | string[] =>
    Array.isArray(value) && value.length === 0 ? false : value,
  ),
)

function parseRouteString(text: string): Route | string {
  const parts = text.trim().split(/\s+/)
  if (parts.length === 1 && parts[0]!.startsWith('/')) return { method: '*', path: parts[0]! }
  if (parts.length === 2) {
    const method = parts[0]!.toUpperCase()
    if (method !== '*' && !(HTTP_METHODS as readonly string[]).includes(method)) {
      return METHOD_EXPECTED
    }
    if (!parts[1]!.startsWith('/')) return ROUTE_PATH_EXPECTED
    return { method, path: parts[1]! }
  }
  return ROUTE_EXPECTED
}

const routeString = v.pipe(
  v.string(ROUTE_EXPECTED),
  v.rawTransform(({ dataset, addIssue, NEVER }) => {
    const route = parseRouteString(dataset.value)
    if (typeof route === 'string') {
      addIssue({ message: route })
      return NEVER
    }
    return route
  }),
)

const routeObject = v.pipe(
  mapping(
    v.object(
      {
        method: v.optional(
          v.pipe(
            v.string(METHOD_EXPECTED),
            v.transform((m) => m.toUpperCase()),
            v.check(
              (m) => m === '*' || (HTTP_METHODS as readonly string[]).includes(m),
              METHOD_EXPECTED,
            ),
          ),
          '*',
        ),
        path: v.pipe(v.string(ROUTE_PATH_EXPECTED), v.startsWith('/', ROUTE_PATH_EXPECTED)),
      },
      ROUTE_EXPECTED,
    ),
    ROUTE_EXPECTED,
  ),
  v.transform((r): Route => ({ method: r.method, path: r.path })),
)

/** One valibot schema per fn.yaml field, keyed by its YAML name. Outputs are normalized values. */
export const fieldSchemas = {
  name: v.pipe(v.string(NAME_EXPECTED), v.regex(NAME_PATTERN, NAME_EXPECTED)),
  description: v.string('a string'),
  runtime: v.pipe(v.string(RUNTIME_EXPECTED), v.regex(RUNTIME_PATTERN, RUNTIME_EXPECTED)),
  entry: relativePath,
  protocol: v.picklist(['handler', 'stdio'] as const satisfies Protocol[], '"handler" or "stdio"'),
  mode: v.picklist(['warm', 'oneshot'] as const satisfies Mode[], '"warm" or "oneshot"'),
  timeout: duration(1),
  memory: v.pipe(
    v.union([v.string(), v.number()], SIZE_EXPECTED),
    v.rawTransform(({ dataset, addIssue, NEVER }) => {
      const parsed = trySize(dataset.value)
      if (!parsed.ok) {
        addIssue({ message: parsed.expected })
        return NEVER
      }
      if (parsed.value < 1) {
        addIssue({ message: 'a size of at least 1 megabyte' })
        return NEVER
      }
      return parsed.value
    }),
  ),
  concurrency: wholeNumber(1, POSITIVE_INT),
  pool: v.pipe(
    mapping(
      v.object(
        {
          min: v.optional(wholeNumber(0, NON_NEGATIVE_INT)),
          max: v.optional(wholeNumber(1, POSITIVE_INT)),
          idle_timeout: v.optional(duration(1)),
          max_requests: v.optional(wholeNumber(0, `${NON_NEGATIVE_INT} (0 = unlimited)`)),
          concurrency: v.optional(wholeNumber(1, POSITIVE_INT)),
        },
        'a mapping with min, max, idle_timeout, max_requests and/or concurrency',
      ),
      'a mapping with min, max, idle_timeout, max_requests and/or concurrency',
    ),
    v.transform((pool) => {
      const out: Partial<PoolConfig> = {}
      if (pool.min !== undefined) out.min = pool.min
      if (pool.max !== undefined) out.max = pool.max
      if (pool.idle_timeout !== undefined) out.idleTimeoutMs = pool.idle_timeout
      if (pool.max_requests !== undefined) out.maxRequests = pool.max_requests
      if (pool.concurrency !== undefined) out.concurrency = pool.concurrency
      return out
    }),
  ),
  env: mapping(
    v.record(
      v.pipe(
        v.string(),
        v.regex(
          ENV_NAME_PATTERN,
          'a variable name: letters, digits and "_", not starting with a digit',
        ),
      ),
      v.pipe(
        v.string(ENV_VALUE_EXPECTED),
        v.rawCheck(({ dataset, addIssue }) => {
          if (!dataset.typed) return
          const template = parseTemplate(dataset.value)
          if (!template.ok) addIssue({ message: `${ENV_VALUE_EXPECTED} (${template.reason})` })
        }),
      ),
      'a mapping of variable names to string values',
    ),
    'a mapping of variable names to string values',
  ),
  permissions: v.pipe(
    mapping(
      v.object(
        {
          net: v.optional(permission),
          read: v.optional(permission),
          write: v.optional(permission),
          env: v.optional(permission),
          run: v.optional(permission),
        },
        'a mapping with net, read, write, env and/or run',
      ),
      'a mapping with net, read, write, env and/or run',
    ),
    v.transform((p) => {
      const out: Partial<Permissions> = {}
      for (const key of PERMISSION_KEYS) if (p[key] !== undefined) out[key] = p[key]
      return out
    }),
  ),
  build: v.pipe(
    mapping(
      v.object(
        {
          command: nonEmptyString(COMMAND_EXPECTED),
          args: v.optional(v.array(v.string('a string'), 'a list of strings'), []),
          watch: v.optional(stringList, []),
          output: v.optional(relativePath),
        },
        'a mapping with command (required), args, watch and output',
      ),
      'a mapping with command (required), args, watch and output',
    ),
    v.transform((b) => {
      const out: BuildConfig = { command: b.command, args: b.args, watch: b.watch }
      if (b.output !== undefined) out.output = b.output
      return out
    }),
  ),
  sample_input: v.unknown(),
  routes: v.array(v.union([routeString, routeObject], ROUTE_EXPECTED), 'a list of routes'),
} satisfies Record<(typeof TOP_KEYS)[number], v.GenericSchema>

export type FieldName = keyof typeof fieldSchemas
