// biome-ignore-all lint/suspicious/noTemplateCurlyInString: "${VAR}" is fn.yaml env syntax, not a template
import { isFnError } from '@fn/protocol'
import { describe, expect, it } from 'vitest'
import { isManifestError, ManifestError } from './errors'
import { parseManifest } from './parse'

const F = 'fn/hello/fn.yaml'

function parse(text: string) {
  return parseManifest(text, F)
}

function errorOf(text: string): ManifestError {
  try {
    parse(text)
  } catch (error) {
    if (error instanceof ManifestError) return error
    throw error
  }
  throw new Error(`expected a ManifestError for:\n${text}`)
}

/** The messages of every issue of `text`. */
function problems(text: string): string[] {
  return errorOf(text).issues.map((issue) => issue.message)
}

/** The message of the one issue of `text`. */
function problem(text: string): string {
  const all = problems(text)
  expect(all).toHaveLength(1)
  return all[0]!
}

const DURATION =
  'a duration like "500ms", "30s", "5m" or "1h30m" (units ms, s, m, h; a plain number means seconds)'
const SIZE =
  'a size in megabytes like 128, "256mb" or "1gb" (units mb, gb; a plain number means megabytes)'
const NAME =
  'a name of 1 to 63 characters: a lowercase letter, then lowercase letters, digits, "-" or "_"'
const POSITIVE = 'a whole number of 1 or more'
const NON_NEGATIVE = 'a whole number of 0 or more'
const PATH =
  'a path relative to the function folder that stays inside it (no absolute path, no "..")'
const PERMISSION =
  'true, false or a list of non-empty strings (hosts, paths, variable names or commands)'
const ENV_VALUE =
  'a string; "${NAME}" reads host variable NAME, "${NAME:-fallback}" falls back when it is unset or empty, "$${" writes a literal "${"'
const ROUTE = 'a route: "GET /path", "/path" (any method) or { method: GET, path: /path }'
const METHOD = 'an HTTP method (GET, HEAD, POST, PUT, PATCH, DELETE, OPTIONS) or "*" for any'
const ROUTE_PATH = 'a path starting with "/", such as "/users/:id"'

describe('documents', () => {
  it.each(['', '\n\n', '# only a comment\n', '---\n', 'null', '~'])(
    '%j is an empty manifest',
    (text) => {
      expect(parse(text)).toEqual({})
    },
  )

  it('parses a manifest that sets every field', () => {
    const manifest = parse(`
name: resize-image
description: Resizes an image.
runtime: python
entry: src/main.py
protocol: handler
mode: warm
timeout: 5m
memory: 1gb
concurrency: 4
pool:
  min: 1
  max: 3
  idle_timeout: 90s
  max_requests: 1000
env:
  API_URL: https://example.com
  API_KEY: \${API_KEY}
permissions:
  net: [api.example.com]
  read: true
  write: false
  env: [API_KEY]
  run: []
build:
  command: go
  args: [build, -o, main]
  watch: ['**/*.go']
  output: main
sample_input:
  width: 100
  tags: [a, b]
routes:
  - GET /resize
  - { method: post, path: /resize }
`)
    expect(manifest).toEqual({
      name: 'resize-image',
      description: 'Resizes an image.',
      runtime: 'python',
      entry: 'src/main.py',
      protocol: 'handler',
      mode: 'warm',
      timeoutMs: 300_000,
      memoryMb: 1024,
      concurrency: 4,
      pool: { min: 1, max: 3, idleTimeoutMs: 90_000, maxRequests: 1000 },
      env: { API_URL: 'https://example.com', API_KEY: '${API_KEY}' },
      permissions: {
        net: ['api.example.com'],
        read: true,
        write: false,
        env: ['API_KEY'],
        run: false,
      },
      build: { command: 'go', args: ['build', '-o', 'main'], watch: ['**/*.go'], output: 'main' },
      sampleInput: { width: 100, tags: ['a', 'b'] },
      routes: [
        { method: 'GET', path: '/resize' },
        { method: 'POST', path: '/resize' },
      ],
    })
  })

  it('treats an empty value as unset', () => {
    expect(parse('name:\ntimeout: ~\npool:\n  max:\nenv:\n  # API_KEY: x\n')).toEqual({
      pool: {},
    })
  })

  it('rejects a list, a string or a number at the top level', () => {
    expect(problem('- a\n- b\n')).toBe(
      `invalid fn.yaml at ${F}:1:1: expected a mapping of fields ("key: value" lines) at the top level, found a list`,
    )
    expect(problem('hello')).toBe(
      `invalid fn.yaml at ${F}:1:1: expected a mapping of fields ("key: value" lines) at the top level, found "hello"`,
    )
    expect(problem('\n\n42')).toContain(`at ${F}:3:1:`)
  })

  it('turns YAML syntax errors into issues with their position', () => {
    expect(problem('name: hello\nenv: [a\n')).toBe(
      `invalid YAML at ${F}:3:1: Flow sequence in block collection must be sufficiently indented and end with a ]`,
    )
    expect(problem('name: "unterminated\n')).toBe(
      `invalid YAML at ${F}:2:1: Missing closing "quote`,
    )
    expect(problems('name: a\n  bad: indent\n')).toEqual([
      `invalid YAML at ${F}:1:7: Nested mappings are not allowed in compact mappings`,
      `invalid YAML at ${F}:1:7: Implicit keys need to be on a single line`,
    ])
  })

  it('reports duplicate keys with the repeated key and its position', () => {
    expect(problem('timeout: 1s\nname: a\ntimeout: 2s\n')).toBe(
      `duplicate key "timeout" at ${F}:3:1: each key may appear once in a mapping: remove or merge the repeated one`,
    )
  })

  it('reports a second YAML document', () => {
    expect(problem('name: a\n---\nname: b\n')).toBe(
      `a second YAML document at ${F}:2:1: fn.yaml holds one document: remove the "---" line and what follows, or merge it`,
    )
  })

  it('reports unknown aliases, recursive aliases and complex keys', () => {
    expect(problem('*nope\n')).toBe(
      `unknown alias "*nope" at ${F}:1:1: define the anchor "&nope" before using it`,
    )
    expect(problem('timeout: *nope\n')).toBe(
      `unknown alias "*nope" at ${F}:1:10: define the anchor "&nope" before using it`,
    )
    expect(problem('sample_input: &x [1, *x]\n')).toBe(
      `recursive alias at ${F}:1:22: an alias may not refer to a value that contains it`,
    )
    expect(problem('? [a, b]\n: 1\n')).toBe(
      `invalid key at ${F}:1:3: expected a plain key such as "timeout", found a list`,
    )
  })

  it('uses the value an alias points at', () => {
    const manifest = parse(
      'sample_input: &input { a: 1 }\nbuild:\n  command: make\n  args: &args [x]\n  watch: *args\n',
    )
    expect(manifest.sampleInput).toEqual({ a: 1 })
    expect(manifest.build).toEqual({ command: 'make', args: ['x'], watch: ['x'] })
  })

  it('stops an alias bomb instead of expanding it', () => {
    const levels = ['a: &a [x, x, x, x, x, x, x, x, x, x]']
    for (const name of ['b', 'c', 'd', 'e', 'f', 'g']) {
      const previous = String.fromCharCode(name.charCodeAt(0) - 1)
      levels.push(`${name}: &${name} [${Array(10).fill(`*${previous}`).join(', ')}]`)
    }
    const text = `sample_input:\n${levels.map((line) => `  ${line}`).join('\n')}\n`
    const started = performance.now()
    expect(problem(text)).toMatch(
      new RegExp(
        `^fn.yaml is too large at ${F}:\\d+:\\d+: it expands to more than 100000 values \\(check aliases\\)$`,
      ),
    )
    expect(performance.now() - started).toBeLessThan(5000)
  })

  it('reports every problem of the file at once, in the order of the file', () => {
    const error = errorOf('timout: 30s\nprotocol: handlr\nmemory: lots\n')
    expect(error.issues.map((issue) => [issue.line, issue.column, issue.path])).toEqual([
      [1, 1, 'timout'],
      [2, 11, 'protocol'],
      [3, 9, 'memory'],
    ])
    expect(error.message).toBe(
      [
        `[fn] 3 problems in ${F}:`,
        `  - unknown key "timout" at ${F}:1:1: did you mean "timeout"?`,
        `  - invalid value for "protocol" at ${F}:2:11: expected "handler" or "stdio", found "handlr": did you mean "handler"?`,
        `  - invalid value for "memory" at ${F}:3:9: expected ${SIZE}, found "lots"`,
      ].join('\n'),
    )
  })
})

describe('ManifestError', () => {
  it('is a FnError with code INVALID_MANIFEST, the file and structured issues', () => {
    const error = errorOf('timeout: 30x\n')
    expect(error).toBeInstanceOf(ManifestError)
    expect(isFnError(error)).toBe(true)
    expect(isManifestError(error)).toBe(true)
    expect(isManifestError(new Error('x'))).toBe(false)
    expect(error.code).toBe('INVALID_MANIFEST')
    expect(error.file).toBe(F)
    expect(error.message).toBe(
      `[fn] invalid value for "timeout" at ${F}:1:10: expected ${DURATION}, found "30x"`,
    )
    expect(error.issues).toEqual([
      {
        file: F,
        line: 1,
        column: 10,
        path: 'timeout',
        message: `invalid value for "timeout" at ${F}:1:10: expected ${DURATION}, found "30x"`,
        found: '30x',
        expected: DURATION,
      },
    ])
    expect(error.toJSON()).toEqual({
      code: 'INVALID_MANIFEST',
      message: error.message,
      details: { file: F, issues: error.issues },
    })
  })
})

describe('unknown keys', () => {
  it('suggest the nearest known key', () => {
    expect(problem('name: a\n\ntimout: 30s\n')).toBe(
      `unknown key "timout" at ${F}:3:1: did you mean "timeout"?`,
    )
    expect(problem('sampleInput: 1\n')).toBe(
      `unknown key "sampleInput" at ${F}:1:1: did you mean "sample_input"?`,
    )
  })

  it('list the known keys when none is close', () => {
    expect(problem('handler: x\n')).toBe(
      `unknown key "handler" at ${F}:1:1: known keys are name, description, runtime, entry, protocol, mode, timeout, memory, concurrency, pool, env, permissions, build, sample_input, routes`,
    )
  })

  it('are found inside pool, permissions, build and route objects too', () => {
    expect(
      problems(
        'pool:\n  maxx: 2\n  idleTimeout: 5s\npermissions:\n  wirte: true\n  disk: true\nbuild:\n  command: make\n  argz: []\nroutes:\n  - { pth: /x }\n',
      ),
    ).toEqual([
      `unknown key "maxx" at ${F}:2:3: did you mean "max"?`,
      `unknown key "idleTimeout" at ${F}:3:3: did you mean "idle_timeout"?`,
      `unknown key "wirte" at ${F}:5:3: did you mean "write"?`,
      `unknown key "disk" at ${F}:6:3: known keys of permissions are net, read, write, env, run`,
      `unknown key "argz" at ${F}:9:3: did you mean "args"?`,
      `missing required field "routes[0].path" at ${F}:11:5: expected ${ROUTE_PATH}`,
      `unknown key "pth" at ${F}:11:7: did you mean "path"?`,
    ])
  })

  it('carry the expected keys in the issue', () => {
    const [issue] = errorOf('pool:\n  maxx: 2\n').issues
    expect(issue).toMatchObject({ path: 'pool.maxx', line: 2, column: 3 })
    expect(issue?.expected).toBe('one of min, max, idle_timeout, max_requests, concurrency')
  })
})

describe('name', () => {
  it.each(['a', 'hello', 'resize-image', 'hello_world2', `a${'b'.repeat(62)}`])(
    'accepts %j',
    (name) => {
      expect(parse(`name: ${name}\n`).name).toBe(name)
    },
  )

  it('rejects names outside the pattern, suggesting a valid spelling', () => {
    expect(problem('name: Hello World\n')).toBe(
      `invalid value for "name" at ${F}:1:7: expected ${NAME}, found "Hello World": did you mean "hello-world"?`,
    )
    expect(problem('name: 9lives\n')).toBe(
      `invalid value for "name" at ${F}:1:7: expected ${NAME}, found "9lives": did you mean "lives"?`,
    )
    expect(problem(`name: a${'b'.repeat(63)}\n`)).toContain(`expected ${NAME}, found "abbb`)
    expect(problem('name: 42\n')).toBe(
      `invalid value for "name" at ${F}:1:7: expected ${NAME}, found 42`,
    )
    expect(problem('name: "-"\n')).toBe(
      `invalid value for "name" at ${F}:1:7: expected ${NAME}, found "-"`,
    )
  })
})

describe('description', () => {
  it('accepts any string, also a multi-line one', () => {
    expect(parse('description: |\n  Two\n  lines\n').description).toBe('Two\nlines\n')
  })
  it('rejects other types', () => {
    expect(problem('description: [a]\n')).toBe(
      `invalid value for "description" at ${F}:1:14: expected a string, found a list`,
    )
  })
})

describe('runtime', () => {
  it.each(['node', 'deno', 'bun', 'python', 'go', 'ruby', 'python3.12', 'my-runtime'])(
    'accepts %j',
    (runtime) => {
      expect(parse(`runtime: ${runtime}\n`).runtime).toBe(runtime)
    },
  )
  it.each([
    ['Python', '"Python"'],
    ['"py thon"', '"py thon"'],
    ['3', '3'],
  ])('rejects %s', (value, shown) => {
    expect(problem(`runtime: ${value}\n`)).toBe(
      `invalid value for "runtime" at ${F}:1:10: expected a runtime name such as "node", "deno", "bun", "python" or "go" (lowercase letters, digits, ".", "-", "_"), found ${shown}`,
    )
  })
})

describe('entry', () => {
  it.each(['index.ts', 'src/main.py', './main.go', 'a/../b.js'])('accepts %j', (entry) => {
    expect(parse(`entry: ${entry}\n`).entry).toBe(entry)
  })
  it.each([
    ['../outside.ts', '"../outside.ts"'],
    ['a/../../x.ts', '"a/../../x.ts"'],
    ['/etc/passwd', '"/etc/passwd"'],
    ['"C:\\\\x.ts"', '"C:\\\\x.ts"'],
    ['"\\\\\\\\server\\\\x.ts"', '"\\\\\\\\server\\\\x.ts"'],
    ['.', '"."'],
    ['""', '""'],
    ['5', '5'],
  ])('rejects %s', (value, shown) => {
    expect(problem(`entry: ${value}\n`)).toBe(
      `invalid value for "entry" at ${F}:1:8: expected ${PATH}, found ${shown}`,
    )
  })
})

describe('protocol and mode', () => {
  it('accept their values', () => {
    expect(parse('protocol: stdio\n')).toEqual({ protocol: 'stdio' })
    expect(parse('protocol: handler\nmode: oneshot\n')).toEqual({
      protocol: 'handler',
      mode: 'oneshot',
    })
    expect(parse('protocol: stdio\nmode: oneshot\n')).toEqual({
      protocol: 'stdio',
      mode: 'oneshot',
    })
  })
  it('reject other values, suggesting the nearest', () => {
    expect(problem('protocol: handlr\n')).toBe(
      `invalid value for "protocol" at ${F}:1:11: expected "handler" or "stdio", found "handlr": did you mean "handler"?`,
    )
    expect(problem('protocol: 1\n')).toBe(
      `invalid value for "protocol" at ${F}:1:11: expected "handler" or "stdio", found 1`,
    )
    expect(problem('mode: hot\n')).toBe(
      `invalid value for "mode" at ${F}:1:7: expected "warm" or "oneshot", found "hot"`,
    )
    expect(problem('mode: one-shot\n')).toBe(
      `invalid value for "mode" at ${F}:1:7: expected "warm" or "oneshot", found "one-shot": did you mean "oneshot"?`,
    )
  })
  it('reject a warm stdio function and explain why', () => {
    expect(problem('protocol: stdio\nmode: warm\n')).toBe(
      `invalid value for "mode" at ${F}:2:7: expected "oneshot" with protocol: stdio, found "warm": a stdio function reads one request from stdin, answers and exits, so it cannot stay warm; use protocol: handler for warm workers, or remove mode`,
    )
  })
})

describe('timeout', () => {
  it.each([
    ['500ms', 500],
    ['30s', 30_000],
    ['5m', 300_000],
    ['1h', 3_600_000],
    ['1m30s', 90_000],
    ['10', 10_000],
    ['"10"', 10_000],
    ['0.5', 500],
  ] as const)('%s is %i ms', (value, ms) => {
    expect(parse(`timeout: ${value}\n`).timeoutMs).toBe(ms)
  })
  it.each([
    ['30x', DURATION, '"30x"'],
    ['true', DURATION, 'true'],
    ['[1]', DURATION, 'a list'],
    ['-1', 'a duration of 0 or more', '-1'],
    ['0s', 'a duration of at least 1ms', '"0s"'],
    ['0', 'a duration of at least 1ms', '0'],
    ['700h', 'a duration of at most 596h (the longest a Node timer can wait)', '"700h"'],
  ])('rejects %s', (value, expected, shown) => {
    expect(problem(`timeout: ${value}\n`)).toBe(
      `invalid value for "timeout" at ${F}:1:10: expected ${expected}, found ${shown}`,
    )
  })
})

describe('memory', () => {
  it.each([
    ['128', 128],
    ['256mb', 256],
    ['512MB', 512],
    ['1gb', 1024],
    ['1.5gb', 1536],
  ] as const)('%s is %i MB', (value, mb) => {
    expect(parse(`memory: ${value}\n`).memoryMb).toBe(mb)
  })
  it.each([
    ['lots', SIZE, '"lots"'],
    ['512kb', `${SIZE}; sizes are whole megabytes`, '"512kb"'],
    ['1.3gb', `${SIZE}, a whole number of megabytes`, '"1.3gb"'],
    ['0', 'a size of at least 1 megabyte', '0'],
    ['-5', 'a size of 0 or more', '-5'],
    ['{ mb: 5 }', SIZE, 'a mapping'],
  ])('rejects %s', (value, expected, shown) => {
    expect(problem(`memory: ${value}\n`)).toBe(
      `invalid value for "memory" at ${F}:1:9: expected ${expected}, found ${shown}`,
    )
  })
})

describe('concurrency', () => {
  it('accepts a positive whole number', () => {
    expect(parse('concurrency: 8\n').concurrency).toBe(8)
  })
  it.each([
    ['0', '0'],
    ['-1', '-1'],
    ['1.5', '1.5'],
    ['"4"', '"4"'],
    ['.inf', 'Infinity'],
  ])('rejects %s', (value, shown) => {
    expect(problem(`concurrency: ${value}\n`)).toBe(
      `invalid value for "concurrency" at ${F}:1:14: expected ${POSITIVE}, found ${shown}`,
    )
  })
})

describe('pool', () => {
  it('accepts any subset of its keys', () => {
    expect(parse('pool: { min: 0, max: 2 }\n').pool).toEqual({ min: 0, max: 2 })
    expect(parse('pool:\n  idle_timeout: 2m\n  max_requests: 0\n').pool).toEqual({
      idleTimeoutMs: 120_000,
      maxRequests: 0,
    })
  })
  it('rejects bad values of each key, at the position of the value', () => {
    expect(
      problems('pool:\n  min: -1\n  max: 0\n  idle_timeout: 0s\n  max_requests: 1.5\n'),
    ).toEqual([
      `invalid value for "pool.min" at ${F}:2:8: expected ${NON_NEGATIVE}, found -1`,
      `invalid value for "pool.max" at ${F}:3:8: expected ${POSITIVE}, found 0`,
      `invalid value for "pool.idle_timeout" at ${F}:4:17: expected a duration of at least 1ms, found "0s"`,
      `invalid value for "pool.max_requests" at ${F}:5:17: expected ${NON_NEGATIVE} (0 = unlimited), found 1.5`,
    ])
  })
  it('must be a mapping', () => {
    expect(problem('pool: 4\n')).toBe(
      `invalid value for "pool" at ${F}:1:7: expected a mapping with min, max, idle_timeout, max_requests and/or concurrency, found 4`,
    )
    expect(problem('pool: [1]\n')).toBe(
      `invalid value for "pool" at ${F}:1:7: expected a mapping with min, max, idle_timeout, max_requests and/or concurrency, found a list`,
    )
  })
  it('needs min <= an explicit max; without max, max follows min', () => {
    expect(problem('pool:\n  min: 3\n  max: 2\n')).toBe(
      `invalid value for "pool.min" at ${F}:2:8: expected at most 2 (pool.max), found 3: raise pool.max or lower pool.min`,
    )
    expect(parse('pool: { min: 64 }\n').pool).toEqual({ min: 64 })
    expect(parse('concurrency: 2\npool: { min: 3 }\n').pool).toEqual({ min: 3 })
  })
  it('reads pool.concurrency, a whole number >= 1', () => {
    expect(parse('pool: { concurrency: 8 }\n').pool).toEqual({ concurrency: 8 })
    expect(problem('pool: { concurrency: 0 }\n')).toBe(
      `invalid value for "pool.concurrency" at ${F}:1:22: expected ${POSITIVE}, found 0`,
    )
  })
})

describe('env', () => {
  it('keeps values raw, and numbers and booleans exactly as written', () => {
    expect(
      parse(
        'env:\n  A: plain\n  B: "${HOME}/x"\n  PORT: 8080\n  VERSION: 1.10\n  HEX: 0x1F\n  DEBUG: true\n  EMPTY: ""\n  _under: x\n',
      ).env,
    ).toEqual({
      A: 'plain',
      B: '${HOME}/x',
      PORT: '8080',
      VERSION: '1.10',
      HEX: '0x1F',
      DEBUG: 'true',
      EMPTY: '',
      _under: 'x',
    })
  })
  it('rejects bad names, empty values, lists and broken references, each at its position', () => {
    expect(
      problems(
        'env:\n  bad-name: x\n  1ST: x\n  EMPTY:\n  LIST: [a]\n  OPEN: "${HOME"\n  SPACE: "${MY VAR}"\n  NESTED: "${A:-${B}}"\n',
      ),
    ).toEqual([
      `invalid key "env.bad-name" at ${F}:2:3: expected a variable name: letters, digits and "_", not starting with a digit, found "bad-name"`,
      `invalid key "env.1ST" at ${F}:3:3: expected a variable name: letters, digits and "_", not starting with a digit, found "1ST"`,
      `invalid value for "env.EMPTY" at ${F}:4:9: expected ${ENV_VALUE}, found null (an empty value): write "" for an empty value`,
      `invalid value for "env.LIST" at ${F}:5:9: expected ${ENV_VALUE}, found a list`,
      `invalid value for "env.OPEN" at ${F}:6:9: expected ${ENV_VALUE} ("\${" at offset 0 is never closed by "}"), found "\${HOME"`,
      `invalid value for "env.SPACE" at ${F}:7:10: expected ${ENV_VALUE} ("\${MY VAR}" is not a variable reference like "\${NAME}"), found "\${MY VAR}"`,
      `invalid value for "env.NESTED" at ${F}:8:11: expected ${ENV_VALUE} ("\${A:-\${B}" nests a reference in its fallback, which is not supported), found "\${A:-\${B}}"`,
    ])
  })
  it('rejects names an object cannot hold safely instead of dropping them', () => {
    expect(problems('env:\n  constructor: x\n  __proto__: y\n')).toEqual([
      `invalid key "env.constructor" at ${F}:2:3: expected a variable name other than __proto__, constructor or prototype, found "constructor"`,
      `invalid key "env.__proto__" at ${F}:3:3: expected a variable name other than __proto__, constructor or prototype, found "__proto__"`,
    ])
  })
  it('must be a mapping', () => {
    expect(problem('env: [A=1]\n')).toBe(
      `invalid value for "env" at ${F}:1:6: expected a mapping of variable names to string values, found a list`,
    )
  })
})

describe('permissions', () => {
  it('accepts booleans and lists, and turns an empty list into false', () => {
    expect(
      parse('permissions:\n  net: [api.example.com, "*.cdn.com"]\n  read: true\n  run: []\n')
        .permissions,
    ).toEqual({ net: ['api.example.com', '*.cdn.com'], read: true, run: false })
  })
  it('rejects other values, pointing at the bad list item', () => {
    expect(
      problems('permissions:\n  net: yes\n  read: [/tmp, 3]\n  write: [""]\n  env: 1\n'),
    ).toEqual([
      `invalid value for "permissions.net" at ${F}:2:8: expected ${PERMISSION}, found "yes"`,
      `invalid value for "permissions.read[1]" at ${F}:3:16: expected ${PERMISSION}, found 3`,
      `invalid value for "permissions.write[0]" at ${F}:4:11: expected ${PERMISSION}, found ""`,
      `invalid value for "permissions.env" at ${F}:5:8: expected ${PERMISSION}, found 1`,
    ])
  })
  it('must be a mapping', () => {
    expect(problem('permissions: all\n')).toBe(
      `invalid value for "permissions" at ${F}:1:14: expected a mapping with net, read, write, env and/or run, found "all"`,
    )
    expect(problem('permissions: [net]\n')).toBe(
      `invalid value for "permissions" at ${F}:1:14: expected a mapping with net, read, write, env and/or run, found a list`,
    )
  })
})

describe('build', () => {
  it('fills args and watch with empty lists', () => {
    expect(parse('build:\n  command: make\n').build).toEqual({
      command: 'make',
      args: [],
      watch: [],
    })
  })
  it('needs a command', () => {
    expect(problem('build:\n  args: [x]\n')).toBe(
      `missing required field "build.command" at ${F}:2:3: expected the program to run, a non-empty string such as "go" or "npm"`,
    )
    expect(problem('build:\n  command: "  "\n')).toBe(
      `invalid value for "build.command" at ${F}:2:12: expected the program to run, a non-empty string such as "go" or "npm", found "  "`,
    )
  })
  it('rejects bad args, watch and output', () => {
    expect(
      problems('build:\n  command: go\n  args: -o main\n  watch: ["*.go", 5]\n  output: ../bin\n'),
    ).toEqual([
      `invalid value for "build.args" at ${F}:3:9: expected a list of strings, found "-o main"`,
      `invalid value for "build.watch[1]" at ${F}:4:19: expected a list of non-empty strings, found 5`,
      `invalid value for "build.output" at ${F}:5:11: expected ${PATH}, found "../bin"`,
    ])
  })
  it('must be a mapping', () => {
    expect(problem('build: make\n')).toBe(
      `invalid value for "build" at ${F}:1:8: expected a mapping with command (required), args, watch and output, found "make"`,
    )
    expect(problem('build: []\n')).toBe(
      `invalid value for "build" at ${F}:1:8: expected a mapping with command (required), args, watch and output, found an empty list`,
    )
  })
})

describe('sample_input', () => {
  it('keeps any value, null included', () => {
    expect(parse('sample_input: null\n')).toEqual({ sampleInput: null })
    expect(parse('sample_input:\n').sampleInput).toBeNull()
    expect(parse('sample_input: 3\n').sampleInput).toBe(3)
    expect(parse('sample_input: { a: [1, { b: "c" }] }\n').sampleInput).toEqual({
      a: [1, { b: 'c' }],
    })
  })
})

describe('routes', () => {
  it('accepts "METHOD /path", "/path" and { method, path }', () => {
    expect(
      parse(
        'routes:\n  - GET /users/:id\n  - /any\n  - "* /star"\n  - { method: delete, path: /x }\n  - { path: /y }\n',
      ).routes,
    ).toEqual([
      { method: 'GET', path: '/users/:id' },
      { method: '*', path: '/any' },
      { method: '*', path: '/star' },
      { method: 'DELETE', path: '/x' },
      { method: '*', path: '/y' },
    ])
  })
  it('rejects bad routes, each at its position', () => {
    expect(
      problems(
        'routes:\n  - FETCH /x\n  - GET x\n  - GET /a /b\n  - 5\n  - { method: GO, path: /x }\n  - { method: GET }\n  - [GET, /x]\n',
      ),
    ).toEqual([
      `invalid value for "routes[0]" at ${F}:2:5: expected ${METHOD}, found "FETCH /x"`,
      `invalid value for "routes[1]" at ${F}:3:5: expected ${ROUTE_PATH}, found "GET x"`,
      `invalid value for "routes[2]" at ${F}:4:5: expected ${ROUTE}, found "GET /a /b"`,
      `invalid value for "routes[3]" at ${F}:5:5: expected ${ROUTE}, found 5`,
      `invalid value for "routes[4].method" at ${F}:6:15: expected ${METHOD}, found "GO"`,
      `missing required field "routes[5].path" at ${F}:7:5: expected ${ROUTE_PATH}`,
      `invalid value for "routes[6]" at ${F}:8:5: expected ${ROUTE}, found a list`,
    ])
  })
  it('must be a list', () => {
    expect(problem('routes: GET /x\n')).toBe(
      `invalid value for "routes" at ${F}:1:9: expected a list of routes, found "GET /x"`,
    )
  })
})
