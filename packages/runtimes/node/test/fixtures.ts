/**
 * The JavaScript fixtures of the conformance suite (FIXTURES.md in @fn/runtime-core), shared by
 * the node, deno and bun adapters: written with `node:` imports only, so one set runs on all
 * three. The deno and bun tests import this file by relative path.
 */
import { existsSync, lstatSync, readdirSync, readlinkSync } from 'node:fs'
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises'
import { createServer } from 'node:http'
import type { AddressInfo } from 'node:net'
import { tmpdir } from 'node:os'
import { dirname, join } from 'node:path'
import type { FunctionDefinition } from '@fn/manifest'
import {
  type BuildCacheStats,
  createRunner,
  type PrepareContext,
  type Runner,
  type RuntimeAdapter,
} from '@fn/runtime-core'
import type { ConformanceFixtures } from '@fn/runtime-core/conformance'
import { afterAll, beforeAll, expect, it } from 'vitest'

// stdio: read the whole request from stdin, write one response JSON to stdout.
const stdio = (body: string): string => `import { spawn } from 'node:child_process'
import { writeFileSync, writeSync } from 'node:fs'
import { Buffer } from 'node:buffer'
import process from 'node:process'

const chunks = []
for await (const chunk of process.stdin) chunks.push(chunk)
const request = JSON.parse(Buffer.concat(chunks).toString('utf8'))
const respond = (response) => process.stdout.write(JSON.stringify(response))
${body}
`

const env = `secret: process.env.FN_CONFORMANCE_HOST_SECRET ?? null,
    declared: process.env.FN_DECLARED ?? null,`

// A child in the same process group that ignores SIGTERM: only SIGKILL of the group ends it.
const grandchild = `spawn('sh', ['-c', 'trap "" TERM; sleep 300'], { stdio: 'ignore' })`

export const jsFixtures: ConformanceFixtures = {
  entry: 'index.mjs',
  stdio: {
    echo: stdio(`respond({
  success: true,
  output: {
    input: request.input,
    request_id: request.request_id,
    ${env}
  },
})`),
    fail: stdio(
      `respond({ success: false, error: { code: 'E_FIXTURE', message: 'fixture failed on purpose' } })`,
    ),
    exit: stdio(`writeSync(2, 'fixture exiting\\n')
process.exit(3)`),
    garbage: stdio(`process.stdout.write('this is not json\\n')`),
    sleep: stdio(`const child = ${grandchild}
writeFileSync(request.input.pidFile, String(child.pid))
setTimeout(() => {}, 300_000)`),
  },
  handler: {
    echo: `import process from 'node:process'

export default async function (input, ctx) {
  await new Promise((resolve) => setTimeout(resolve, 1))
  return {
    input,
    request_id: ctx.request_id,
    function: ctx.function,
    ${env}
  }
}
`,
    sync: `export default function (input) {
  return { doubled: input.n * 2 }
}
`,
    throws: `class FixtureError extends Error {
  code = 'E_FIXTURE'
}

export default async function (input) {
  throw new FixtureError('bad input: ' + input.why)
}
`,
    unserialisable: `export default () => ({ n: 1n })
`,
    logs: `import { spawn } from 'node:child_process'
import { writeSync } from 'node:fs'

export default async function ({ tag, delayMs }, ctx) {
  console.log(\`stdout \${tag}\`)
  console.error(\`stderr \${tag}\`)
  ctx.log.info(\`structured \${tag}\`, { tag })
  writeSync(1, \`fd1 \${tag}\\n\`)
  await new Promise((resolve, reject) => {
    const child = spawn('sh', ['-c', \`echo child \${tag}\`], { stdio: ['ignore', 'inherit', 'inherit'] })
    child.on('error', reject).on('close', resolve)
  })
  await new Promise((resolve) => setTimeout(resolve, delayMs))
  ctx.log.warn(\`after sleep \${tag}\`)
  return { tag }
}
`,
    crash: `import { writeSync } from 'node:fs'
import process from 'node:process'

export default function (input) {
  if (input.crash) {
    writeSync(2, 'crashing now\\n')
    process.exit(7)
  }
  return 'alive'
}
`,
    sleep: `import { spawn } from 'node:child_process'
import { writeFileSync } from 'node:fs'

export default async function ({ ms, pidFile }) {
  if (pidFile) writeFileSync(pidFile, String(${grandchild}.pid))
  await new Promise((resolve) => setTimeout(resolve, ms))
  return { slept: ms }
}
`,
    pid: `import process from 'node:process'

export default () => process.pid
`,
    concurrent: `import process from 'node:process'

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms))

export default async function ({ tag, delayMs = 0, hang, crash }, ctx) {
  const start = Date.now()
  console.log(\`log \${tag}\`)
  ctx.log.info(\`structured \${tag}\`, { tag })
  if (crash) {
    await sleep(delayMs)
    process.stderr.write('crashing now\\n')
    process.exit(9)
  }
  if (hang) await new Promise(() => {})
  await sleep(delayMs)
  ctx.log.warn(\`after \${tag}\`)
  return { tag, pid: process.pid, start, end: Date.now() }
}
`,
  },
}

/** A TypeScript handler in two files (erasable syntax only, so Node's type stripping runs it). */
export const tsHandler: Record<string, string> = {
  'index.ts': `import { double } from './double.ts'

interface Input {
  n: number
}

interface Context {
  request_id: string
  log: { info(message: string, data?: unknown): void }
}

export default async function handler(input: Input, ctx: Context): Promise<{ doubled: number; id: string }> {
  ctx.log.info('doubling', { n: input.n } satisfies Input)
  return { doubled: double(input.n), id: ctx.request_id }
}
`,
  'double.ts': `export const double = (n: number): number => n * 2
`,
}

export type TestRequest = Parameters<Runner['invoke']>[0]

/** Function folders in a temporary directory, and runners for them, closed after the file. */
export function useFunctions(label: string): {
  /** Writes `files` into a new function folder (entry: the first file) and starts a runner. */
  start(
    adapter: RuntimeAdapter,
    files: Record<string, string>,
    overrides?: Partial<FunctionDefinition>,
  ): Promise<Runner>
  /** Writes `files` into a new function folder (entry: the first file): its definition. */
  define(
    runtime: string,
    files: Record<string, string>,
    overrides?: Partial<FunctionDefinition>,
  ): Promise<FunctionDefinition>
  /** Starts a runner for a function written with `define`. */
  run(adapter: RuntimeAdapter, fn: FunctionDefinition): Promise<Runner>
  /** The adapters' cache folder, shared by every function of the file. */
  cacheDir(): string
  request(input: unknown): TestRequest
} {
  let root = ''
  let seq = 0
  const runners: Runner[] = []
  beforeAll(async () => {
    root = await mkdtemp(join(tmpdir(), `fn-${label}-`))
  })
  afterAll(async () => {
    await Promise.all(runners.map((r) => r.close()))
    await rm(root, { recursive: true, force: true })
  })
  const cacheDir = () => join(root, '.cache')
  const define = async (
    runtime: string,
    files: Record<string, string>,
    overrides: Partial<FunctionDefinition> = {},
  ): Promise<FunctionDefinition> => {
    const name = `fn-${++seq}`
    const dir = join(root, name)
    for (const [file, content] of Object.entries(files)) {
      await mkdir(dirname(join(dir, file)), { recursive: true })
      await writeFile(join(dir, file), content)
    }
    const entryRelative = Object.keys(files)[0] ?? 'index.mjs'
    return {
      name,
      dir,
      entry: join(dir, entryRelative),
      entryRelative,
      runtime,
      protocol: 'handler',
      mode: 'warm',
      timeoutMs: 20_000,
      pool: { min: 0, max: 1, idleTimeoutMs: 60_000, maxRequests: 0, concurrency: 1 },
      env: {},
      permissions: { net: false, read: false, write: false, env: false, run: false },
      ...overrides,
    }
  }
  const run = async (adapter: RuntimeAdapter, fn: FunctionDefinition): Promise<Runner> => {
    const runner = await createRunner(adapter, fn, { cacheDir: cacheDir(), killGraceMs: 200 })
    runners.push(runner)
    return runner
  }
  return {
    start: async (adapter, files, overrides = {}) =>
      run(adapter, await define(adapter.name, files, overrides)),
    define,
    run,
    cacheDir,
    request: (input) => ({ request_id: `req-${++seq}`, function: 'test', input, context: {} }),
  }
}

/** What the shared JavaScript bootstrap does, checked on one runtime (inside its describe). */
export function shimTests(
  fns: ReturnType<typeof useFunctions>,
  adapter: () => RuntimeAdapter,
): void {
  it('kills a worker whose event loop is blocked, failing only its calls; ctx.signal aborts on timeout', async () => {
    const r = await fns.start(
      adapter(),
      {
        'index.mjs': `import process from 'node:process'
export default async function ({ mode }, ctx) {
  if (mode === 'spin') for (;;) {}
  if (mode === 'abortable') {
    return await new Promise((resolve) => ctx.signal.addEventListener('abort', () => resolve('aborted')))
  }
  await new Promise((resolve) => setTimeout(resolve, mode === 'slow' ? 1500 : 1))
  return process.pid
}
`,
      },
      { pool: { min: 0, max: 1, idleTimeoutMs: 60_000, maxRequests: 0, concurrency: 4 } },
    )
    const pid = (await r.invoke(fns.request({ mode: 'quick' }))).output
    // A cancel the handler hears: the call is TIMEOUT, the worker stays.
    const aborted = await r.invoke(fns.request({ mode: 'abortable' }), { timeoutMs: 200 })
    expect(aborted.error?.code).toBe('TIMEOUT')
    expect((await r.invoke(fns.request({ mode: 'quick' }))).output).toBe(pid)
    // A blocked loop cannot answer the cancel: the worker is killed with its sibling.
    const [spin, sibling] = await Promise.all([
      r.invoke(fns.request({ mode: 'spin' }), { timeoutMs: 300 }),
      r.invoke(fns.request({ mode: 'slow' })),
    ])
    expect(spin.error?.code).toBe('TIMEOUT')
    expect(sibling.error?.code).toBe('CRASHED')
    expect(sibling.error?.message).toContain('stopped responding')
    const after = await r.invoke(fns.request({ mode: 'quick' }))
    expect(after.error).toBeUndefined()
    expect(after.output).not.toBe(pid)
  })

  it('runs a TypeScript handler that imports its own files', async () => {
    const r = await fns.start(adapter(), tsHandler)
    const out = await r.invoke(fns.request({ n: 21 }))
    expect(out.error).toBeUndefined()
    expect(out.output).toMatchObject({ doubled: 42 })
    expect(out.logs.find((l) => l.message === 'doubling')?.data).toEqual({ n: 21 })
  })

  it("takes a named handler export, and keeps an error's own code and details", async () => {
    const r = await fns.start(adapter(), {
      'index.mjs': `export async function handler(sku) {
  throw Object.assign(new Error('out of stock'), { code: 'OUT_OF_STOCK', details: { sku } })
}
`,
    })
    const out = await r.invoke(fns.request('sku-1'))
    expect(out.error).toEqual({
      code: 'OUT_OF_STOCK',
      message: 'out of stock',
      details: { sku: 'sku-1' },
    })
  })

  it('attributes large process.stdout/stderr writes to their own invocation', async () => {
    // Runtimes may buffer these writes (Bun does, and Node for big ones): the end marker must wait.
    const r = await fns.start(adapter(), {
      'index.mjs': `import process from 'node:process'
export default (tag) => {
  process.stdout.write(tag + ' out ' + 'x'.repeat(300_000) + '\\n')
  process.stderr.write(tag + ' err ' + 'y'.repeat(300_000) + '\\n')
  return tag
}
`,
    })
    for (const tag of ['first', 'second', 'third']) {
      const out = await r.invoke(fns.request(tag))
      expect(out.output).toBe(tag)
      const lines = out.logs.map((l) => `${l.level} ${l.message.split(' ', 2).join(' ')}`)
      expect(lines).toEqual(expect.arrayContaining([`info ${tag} out`, `error ${tag} err`]))
      expect(
        lines.every((l) => l.includes(tag)),
        String(lines),
      ).toBe(true)
    }
  })

  it('reports an entry that fails to load, or exports no handler, as BUILD_FAILED', async () => {
    const broken = await fns.start(adapter(), { 'index.mjs': 'throw new Error("cannot load")\n' })
    const out = await broken.invoke(fns.request(null))
    expect(out.error).toMatchObject({
      code: 'BUILD_FAILED',
      message: expect.stringContaining('cannot load'),
    })
    const empty = await fns.start(adapter(), { 'index.mjs': 'export const x = 1\n' })
    expect((await empty.invoke(fns.request(null))).error).toMatchObject({
      code: 'BUILD_FAILED',
      message: expect.stringContaining('exports no handler'),
    })
  })

  it('fails the invocation in progress as CRASHED when an error escapes the handler', async () => {
    const r = await fns.start(adapter(), {
      'index.mjs': `export default () => new Promise(() => setTimeout(() => { throw new Error('escaped') }, 1))\n`,
    })
    const out = await r.invoke(fns.request(null))
    expect(out.error?.code).toBe('CRASHED')
    expect(out.error?.message).toContain('escaped')
  })
}

/** An adapter that installs package.json dependencies (node, bun). */
export interface PackageDepsAdapter extends RuntimeAdapter {
  prepare(
    fn: FunctionDefinition,
    ctx: PrepareContext,
  ): Promise<{ deps?: { dir: string; nodeModules: string; key: string } }>
  installStats(): BuildCacheStats
}

/** A handler that imports is-number and says where it was loaded from. */
const isNumberHandler = `import isNumber from 'is-number'

export default (input) => ({ isNumber: isNumber(input), from: import.meta.resolve('is-number') })
`

/** A stdio script that does the same. */
const isNumberScript = stdio(`import isNumber from 'is-number'
respond({ success: true, output: { isNumber: isNumber(request.input), from: import.meta.resolve('is-number') } })`)

const msVersion = `import { createRequire } from 'node:module'

export default () => createRequire(import.meta.url)('ms/package.json').version
`

/**
 * Per-function dependencies from package.json, checked on one runtime with real packages from
 * the npm registry (inside its describe). `lockfile`: a lockfile of this runtime's installer for
 * a package.json depending on `"ms": "^2.1.0"` that pins ms 2.1.2.
 */
export function packageDepsTests(
  fns: ReturnType<typeof useFunctions>,
  adapter: () => PackageDepsAdapter,
  lockfile: Record<string, string>,
): void {
  const prepare = async (a: PackageDepsAdapter, fn: FunctionDefinition) =>
    a.prepare(fn, { runtime: await a.resolve(), cacheDir: fns.cacheDir() })
  const pkg = (deps: Record<string, string>, name = 'fn-test') =>
    JSON.stringify({ name, type: 'module', dependencies: deps })
  const linkOf = (fn: FunctionDefinition) => readlinkSync(join(fn.dir, 'node_modules'))
  let first: FunctionDefinition

  it('installs package.json dependencies at prepare; handler and stdio functions share them', async () => {
    const a = adapter()
    first = await fns.define(a.name, {
      'index.mjs': isNumberHandler,
      'package.json': pkg({ 'is-number': '7.0.0' }),
    })
    // Only the install fields count: another name, script or key order shares the install.
    const second = await fns.define(
      a.name,
      {
        'main.mjs': isNumberScript,
        'package.json': JSON.stringify({
          dependencies: { 'is-number': '7.0.0' },
          type: 'module',
          name: 'another',
          scripts: { start: 'x' },
        }),
      },
      { protocol: 'stdio', mode: 'oneshot' },
    )
    const [r1, r2] = [await fns.run(a, first), await fns.run(a, second)]
    expect(a.installStats()).toEqual({ builds: 1, hits: 1 })
    expect(linkOf(first)).toBe(linkOf(second))
    expect(linkOf(first)).toMatch(/\/deps-[0-9a-f]{32}\/node_modules$/)
    expect(linkOf(first).startsWith(fns.cacheDir())).toBe(true)
    for (const r of [r1, r2]) {
      const out = await r.invoke(fns.request(42))
      expect(out.error).toBeUndefined()
      expect(out.output).toMatchObject({ isNumber: true, from: expect.stringContaining('/deps-') })
    }
  })

  it('does not reinstall on a second prepare with a fresh adapter (a restart)', async () => {
    const a = adapter()
    const before = linkOf(first)
    const prepared = await prepare(a, first)
    expect(a.installStats()).toEqual({ builds: 0, hits: 1 })
    expect(prepared.deps?.nodeModules).toBe(before)
    expect(linkOf(first)).toBe(before)
  })

  it('reinstalls when package.json changes, and unlinks when its dependencies go', async () => {
    const a = adapter()
    const before = linkOf(first)
    await writeFile(join(first.dir, 'package.json'), pkg({ 'is-number': '7.0.0', ms: '2.1.3' }))
    await writeFile(
      join(first.dir, 'index.mjs'),
      "import ms from 'ms'\nexport default () => ms('2h')\n",
    )
    const r = await fns.run(a, first)
    expect(a.installStats()).toEqual({ builds: 1, hits: 0 })
    expect(linkOf(first)).not.toBe(before)
    expect((await r.invoke(fns.request(null))).output).toBe(7_200_000)

    await writeFile(join(first.dir, 'package.json'), pkg({}))
    expect((await prepare(a, first)).deps).toBeUndefined()
    expect(existsSync(join(first.dir, 'node_modules'))).toBe(false)
    expect(a.installStats()).toEqual({ builds: 1, hits: 0 })
  })

  it('installs exactly what the lockfile pins', async () => {
    const a = adapter()
    const r = await fns.start(a, {
      'index.mjs': msVersion,
      'package.json': pkg({ ms: '^2.1.0' }),
      ...lockfile,
    })
    expect((await r.invoke(fns.request(null))).output).toBe('2.1.2')
    expect(a.installStats()).toEqual({ builds: 1, hits: 0 })
  })

  it("fails with BUILD_FAILED carrying the installer's message for a package that does not exist", async () => {
    const missing = 'fn-test-no-such-package-4d1e7b'
    const a = adapter()
    const fn = await fns.define(a.name, {
      'index.mjs': 'export default () => 1\n',
      'package.json': pkg({ [missing]: '1.0.0' }),
    })
    await expect(fns.run(a, fn)).rejects.toMatchObject({
      code: 'BUILD_FAILED',
      message: expect.stringMatching(new RegExp(`${missing}[^]*404|404[^]*${missing}`)),
    })
    expect(existsSync(join(fn.dir, 'node_modules'))).toBe(false)
    // Nothing half-built is left to be mistaken for an install.
    const entries = readdirSync(fns.cacheDir()).filter((e) => e.startsWith('deps-'))
    expect(entries.every((e) => /^deps-[0-9a-f]{32}$/.test(e))).toBe(true)
  })

  it('gives the installer the host registry settings, and never the function', async () => {
    const requested: string[] = []
    const server = createServer((req, res) => {
      requested.push(req.url ?? '')
      res.statusCode = 404
      res.end('{}')
    })
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
    const registry = `http://127.0.0.1:${(server.address() as AddressInfo).port}/`
    process.env['NPM_CONFIG_REGISTRY'] = registry
    try {
      const a = adapter()
      const fn = await fns.define(a.name, {
        'index.mjs': 'export default () => 1\n',
        'package.json': pkg({ 'fn-test-registry-probe': '1.0.0' }),
      })
      await expect(fns.run(a, fn)).rejects.toMatchObject({ code: 'BUILD_FAILED' })
      expect(requested.some((url) => url.includes('fn-test-registry-probe'))).toBe(true)
      const env = await fns.start(adapter(), {
        'index.mjs': 'export default () => process.env.NPM_CONFIG_REGISTRY ?? null\n',
      })
      expect((await env.invoke(fns.request(null))).output).toBeNull()
    } finally {
      delete process.env['NPM_CONFIG_REGISTRY']
      await new Promise<void>((resolve) => server.close(() => resolve()))
    }
  })

  it("uses a node_modules of the function's own as it is, and installs nothing without dependencies", async () => {
    const a = adapter()
    const own = await fns.define(a.name, {
      'index.mjs': isNumberHandler,
      'package.json': pkg({ 'is-number': '7.0.0' }),
      'node_modules/is-number/package.json': '{ "name": "is-number", "main": "index.js" }',
      'node_modules/is-number/index.js': "module.exports = () => 'own copy'\n",
    })
    const r = await fns.run(a, own)
    expect((await r.invoke(fns.request(1))).output).toMatchObject({ isNumber: 'own copy' })
    expect(lstatSync(join(own.dir, 'node_modules')).isDirectory()).toBe(true)

    const none = await fns.define(a.name, {
      'index.mjs': 'export default () => 1\n',
      'package.json': JSON.stringify({ type: 'module', devDependencies: { 'is-number': '7.0.0' } }),
    })
    expect((await prepare(a, none)).deps).toBeUndefined()
    expect(existsSync(join(none.dir, 'node_modules'))).toBe(false)
    expect(a.installStats()).toEqual({ builds: 0, hits: 0 })
  })
}
