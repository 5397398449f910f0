import { existsSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { writeFile } from 'node:fs/promises'
import { createServer, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { dirname, join } from 'node:path'
import type { FunctionDefinition, Permissions } from '@fn/manifest'
import { testAdapter } from '@fn/runtime-core/conformance'
import { describeRuntime } from '@fn/tooling/runtimes'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { jsFixtures, shimTests, useFunctions } from '../../node/test/fixtures'
import { stripJsonc } from './deps'
import { type DenoAdapter, type DenoOptions, type DenoPrepared, deno } from './index'

describeRuntime('deno', 'conformance', (bin) => {
  testAdapter({ name: 'deno', adapter: (b) => deno({ bin: b }), bin, fixtures: jsFixtures })
})

const none: Permissions = { net: false, read: false, write: false, env: false, run: false }

describe('deno: launch flags', () => {
  const fn = (overrides: Partial<FunctionDefinition> = {}): FunctionDefinition => ({
    name: 'f',
    dir: '/srv/functions/f',
    entry: '/srv/functions/f/index.ts',
    entryRelative: 'index.ts',
    runtime: 'deno',
    protocol: 'handler',
    mode: 'warm',
    timeoutMs: 1000,
    pool: { min: 0, max: 1, idleTimeoutMs: 1000, maxRequests: 0, concurrency: 1 },
    env: {},
    permissions: none,
    ...overrides,
  })
  const runtime = { name: 'deno', bin: '/usr/bin/deno', version: '2.9.6' }
  const argsOf = (f: FunctionDefinition, prepared: DenoPrepared = { config: undefined }) =>
    deno().launch(f, { runtime, prepared, kind: 'stdio' }).args

  it('grants nothing but reading its own folder by default, and never prompts', () => {
    expect(argsOf(fn())).toEqual([
      '--no-prompt',
      '--no-config',
      '--allow-read=/srv/functions/f',
      '/srv/functions/f/index.ts',
    ])
  })

  it('maps each permission: true to --allow-<kind>, a list to --allow-<kind>=<list>', () => {
    const args = argsOf(
      fn({
        env: { API_KEY: 'k' },
        permissions: {
          net: ['api.example.com', 'localhost:8080'],
          read: ['data', '/etc/hostname'],
          write: true,
          env: false,
          run: ['git'],
        },
      }),
    )
    expect(args).toContain('--allow-net=api.example.com,localhost:8080')
    expect(args).toContain('--allow-read=/srv/functions/f,/srv/functions/f/data,/etc/hostname')
    expect(args).toContain('--allow-write')
    expect(args).toContain('--allow-env=API_KEY')
    expect(args).toContain('--allow-run=git')
    expect(args.some((a) => a === '--allow-all' || a === '-A')).toBe(false)
  })

  it('uses the deno.json beside the entry, and limits the heap', () => {
    const args = argsOf(fn({ memoryMb: 200 }), { config: '/srv/functions/f/deno.json' })
    expect(args).toContain('--config=/srv/functions/f/deno.json')
    expect(args).not.toContain('--no-config')
    expect(args).toContain('--v8-flags=--max-old-space-size=200')
  })

  it('passes DENO_DIR through and nothing else of the host', () => {
    process.env['DENO_DIR'] = '/tmp/deno-dir-for-test'
    try {
      const env = deno().launch(fn(), {
        runtime,
        prepared: { config: undefined },
        kind: 'worker',
      }).env
      expect(env['DENO_DIR']).toBe('/tmp/deno-dir-for-test')
      expect(env['NO_COLOR']).toBe('1')
      expect(env['FN_CONFORMANCE_HOST_SECRET']).toBeUndefined()
    } finally {
      delete process.env['DENO_DIR']
    }
  })
})

describeRuntime('deno', 'deno adapter', () => {
  const fns = useFunctions('deno')
  let server: Server
  let url = ''
  beforeAll(async () => {
    server = createServer((_req, res) => res.end('pong'))
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/`
  })
  afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())))

  const probe = {
    'index.mjs': `import { existsSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { writeFile } from 'node:fs/promises'
export default async ({ what, url }) => {
  if (what === 'net') return await (await fetch(url)).text()
  if (what === 'read') return readFileSync('/etc/hostname', 'utf8').trim()
  if (what === 'env') return { declared: Deno.env.get('DECLARED'), path: Deno.env.get('PATH') ?? null }
}
`,
  }

  it('resolves the real binary, not the Node wrapper in node_modules/.bin', async () => {
    const path = process.env['PATH']
    process.env['PATH'] = `${join(import.meta.dirname, '../../../../node_modules/.bin')}:${path}`
    try {
      const info = await deno().resolve()
      expect(readFileSync(info.bin).subarray(0, 4).toString('latin1')).toBe('\x7fELF')
      expect(info.version).toMatch(/^2\.\d+\.\d+$/)
    } finally {
      process.env['PATH'] = path
    }
  })

  it('cannot fetch without net permission, and can with it', async () => {
    const denied = await fns.start(deno(), probe)
    const out = await denied.invoke(fns.request({ what: 'net', url }))
    expect(out.error).toMatchObject({
      code: 'FUNCTION_ERROR',
      message: expect.stringContaining('Requires net access'),
    })
    const host = new URL(url).host
    for (const net of [true, [host]]) {
      const allowed = await fns.start(deno(), probe, { permissions: { ...none, net } })
      expect((await allowed.invoke(fns.request({ what: 'net', url }))).output).toBe('pong')
    }
  })

  it('cannot read /etc/hostname without read permission, and can with it', async () => {
    const denied = await fns.start(deno(), probe)
    const out = await denied.invoke(fns.request({ what: 'read' }))
    expect(out.error).toMatchObject({
      code: 'FUNCTION_ERROR',
      message: expect.stringContaining('Requires read access'),
    })
    const expected = readFileSync('/etc/hostname', 'utf8').trim()
    for (const read of [true, ['/etc/hostname']]) {
      const allowed = await fns.start(deno(), probe, { permissions: { ...none, read } })
      expect((await allowed.invoke(fns.request({ what: 'read' }))).output).toBe(expected)
    }
  })

  it('reads the env it declares without env permission, and nothing else', async () => {
    const r = await fns.start(deno(), probe, { env: { DECLARED: 'yes' } })
    const out = await r.invoke(fns.request({ what: 'env' }))
    expect(out.error).toMatchObject({
      code: 'FUNCTION_ERROR',
      message: expect.stringContaining('Requires env access to "PATH"'),
    })
    const all = await fns.start(deno(), probe, {
      env: { DECLARED: 'yes' },
      permissions: { ...none, env: true },
    })
    expect((await all.invoke(fns.request({ what: 'env' }))).output).toMatchObject({
      declared: 'yes',
    })
  })

  it("uses the function's deno.json (its import map)", async () => {
    const r = await fns.start(deno(), {
      'index.ts': `import { greet } from 'greet'\nexport default (name: string): string => greet(name)\n`,
      'deno.json': JSON.stringify({ imports: { greet: './lib/greet.ts' } }),
      'lib/greet.ts': "export const greet = (name: string): string => 'hello ' + name\n",
    })
    const out = await r.invoke(fns.request('deno'))
    expect(out.error).toBeUndefined()
    expect(out.output).toBe('hello deno')
  })

  it('does not pick up a deno.json from a folder above the function', async () => {
    const first = await fns.start(deno(), { 'index.ts': 'export default () => 1\n' })
    const above = join(dirname(first.fn.dir), 'deno.json')
    writeFileSync(above, '{ "this is": not json')
    try {
      const r = await fns.start(deno(), { 'index.ts': 'export default () => 2\n' })
      const out = await r.invoke(fns.request(null))
      expect(out.error).toBeUndefined()
      expect(out.output).toBe(2)
    } finally {
      rmSync(above)
    }
  })

  shimTests(fns, deno)
})

describe('deno: deno.jsonc', () => {
  it('reads comments and trailing commas, and leaves strings alone', () => {
    const text = `{
  // line comment, "quoted"
  "imports": { "a": "npm:a@1", /* block, } */ "b": "https://x.test/a,//b", },
  "list": [1, 2,
  ],
}`
    expect(JSON.parse(stripJsonc(text))).toEqual({
      imports: { a: 'npm:a@1', b: 'https://x.test/a,//b' },
      list: [1, 2],
    })
  })
})

/** deno.json `"ms": "npm:ms@^2.1.0"`, locked at 2.1.2. */
const denoLock = `${JSON.stringify(
  {
    version: '5',
    specifiers: { 'npm:ms@^2.1.0': '2.1.2' },
    npm: {
      'ms@2.1.2': {
        integrity:
          'sha512-sGkPx+VjMtmA6MX27oA4FBFELFCZZ4S4XqeGOXCv68tT+jb3vk/RyaKWP0PTKyWtmLSM0b+adUTEvbs1PEaH2w==',
      },
    },
    workspace: { dependencies: ['npm:ms@^2.1.0'] },
  },
  null,
  2,
)}\n`

describeRuntime('deno', 'deno: deno.json dependencies (deno install)', () => {
  const fns = useFunctions('deno-deps')
  // A Deno cache of this file's own, so the first install really downloads.
  const denoDir = () => join(dirname(fns.cacheDir()), 'deno-dir')
  // --cached-only: a call that would download fails, so passing calls prove prepare fetched it all.
  const adapter = (options: DenoOptions = {}): DenoAdapter =>
    deno({ args: ['--cached-only'], installEnv: { DENO_DIR: denoDir() }, ...options })
  const prepare = async (a: DenoAdapter, fn: FunctionDefinition) =>
    a.prepare(fn, { runtime: await a.resolve(), cacheDir: fns.cacheDir() })
  const imports = (map: Record<string, string>) => JSON.stringify({ imports: map })
  const isNumber = `import isNumber from 'is-number'

export default (input: unknown) => ({ isNumber: isNumber(input), from: import.meta.resolve('is-number') })
`
  let first: FunctionDefinition

  it('fetches the npm: imports of deno.json at prepare; functions with the same deno.json share them', async () => {
    const a = adapter()
    first = await fns.define('deno', {
      'index.ts': isNumber,
      'deno.json': imports({ 'is-number': 'npm:is-number@7.0.0' }),
    })
    const second = await fns.define(
      'deno',
      {
        'main.ts': `import isNumber from 'is-number'
const request = JSON.parse(await new Response(Deno.stdin.readable).text())
console.log(JSON.stringify({ success: true, output: { isNumber: isNumber(request.input), from: import.meta.resolve('is-number') } }))
`,
        'deno.json': imports({ 'is-number': 'npm:is-number@7.0.0' }),
      },
      { protocol: 'stdio', mode: 'oneshot' },
    )
    const [r1, r2] = [await fns.run(a, first), await fns.run(a, second)]
    expect(a.installStats()).toEqual({ builds: 1, hits: 1 })
    for (const r of [r1, r2]) {
      const out = await r.invoke(fns.request(42))
      expect(out.error).toBeUndefined()
      expect(out.output).toMatchObject({
        isNumber: true,
        from: expect.stringContaining(`${denoDir()}/npm/registry.npmjs.org/is-number/7.0.0/`),
      })
      // The install's lockfile is used: none is written beside the function.
      expect(existsSync(join(r.fn.dir, 'deno.lock'))).toBe(false)
    }
  })

  it('runs nothing on a second prepare with a fresh adapter (a restart)', async () => {
    const a = adapter()
    const prepared = await prepare(a, first)
    expect(a.installStats()).toEqual({ builds: 0, hits: 1 })
    expect(prepared.deps?.lock).toMatch(/\/deps-[0-9a-f]{32}\/deno\.lock$/)
    const args = a.launch(first, { runtime: await a.resolve(), prepared, kind: 'worker' })
    expect(args.args).toContain(`--lock=${prepared.deps?.lock}`)
    expect(args.env['DENO_DIR']).toBe(denoDir())
  })

  it('fetches again when deno.json changes, or when the Deno cache is gone', async () => {
    await writeFile(join(first.dir, 'deno.json'), imports({ 'is-number': 'npm:is-number@6.0.0' }))
    const a = adapter()
    const r = await fns.run(a, first)
    expect(a.installStats()).toEqual({ builds: 1, hits: 0 })
    expect((await r.invoke(fns.request(1))).output).toMatchObject({
      from: expect.stringContaining('/is-number/6.0.0/'),
    })

    rmSync(denoDir(), { recursive: true, force: true })
    const b = adapter()
    await prepare(b, first)
    expect(b.installStats()).toEqual({ builds: 1, hits: 0 })
    expect(existsSync(join(denoDir(), 'npm/registry.npmjs.org/is-number/6.0.0'))).toBe(true)
  })

  it("installs exactly what the function's deno.lock pins, and leaves it as it is", async () => {
    const a = adapter()
    const r = await fns.start(a, {
      'index.ts':
        "import ms from 'ms'\nexport default () => [ms('1m'), import.meta.resolve('ms')]\n",
      'deno.jsonc': `{
  // comments and trailing commas are fine
  "imports": { "ms": "npm:ms@^2.1.0", },
}
`,
      'deno.lock': denoLock,
    })
    const out = await r.invoke(fns.request(null))
    expect(out.error).toBeUndefined()
    expect(out.output).toEqual([60_000, expect.stringContaining('/ms/2.1.2/')])
    expect(readFileSync(join(r.fn.dir, 'deno.lock'), 'utf8')).toBe(denoLock)
  })

  it("fails with BUILD_FAILED carrying deno's message for a package that does not exist", async () => {
    const missing = 'fn-test-no-such-package-4d1e7b'
    const fn = await fns.define('deno', {
      'index.ts': 'export default () => 1\n',
      'deno.json': imports({ x: `npm:${missing}@1.0.0` }),
    })
    await expect(fns.run(adapter(), fn)).rejects.toMatchObject({
      code: 'BUILD_FAILED',
      message: expect.stringContaining(`npm package '${missing}' does not exist`),
    })
  })

  it('gives deno install the host registry settings', async () => {
    const requested: string[] = []
    const server = createServer((req, res) => {
      requested.push(req.url ?? '')
      res.statusCode = 404
      res.end('{}')
    })
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
    process.env['NPM_CONFIG_REGISTRY'] =
      `http://127.0.0.1:${(server.address() as AddressInfo).port}/`
    try {
      const fn = await fns.define('deno', {
        'index.ts': 'export default () => 1\n',
        'deno.json': imports({ x: 'npm:fn-test-registry-probe@1.0.0' }),
      })
      await expect(fns.run(adapter(), fn)).rejects.toMatchObject({ code: 'BUILD_FAILED' })
      expect(requested.some((url) => url.includes('fn-test-registry-probe'))).toBe(true)
    } finally {
      delete process.env['NPM_CONFIG_REGISTRY']
      await new Promise<void>((resolve) => server.close(() => resolve()))
    }
  })

  it('installs nothing for a deno.json without remote imports, or without a deno.json', async () => {
    const a = adapter()
    const local = await fns.define('deno', {
      'index.ts': "import { greet } from 'greet'\nexport default () => greet()\n",
      'deno.json': JSON.stringify({
        $schema: 'https://deno.land/x/deno/cli/schemas/config-file.v1.json',
        imports: { greet: './greet.ts' },
      }),
      'greet.ts': "export const greet = () => 'hi'\n",
    })
    expect((await prepare(a, local)).deps).toBeUndefined()
    const none = await fns.define('deno', { 'index.ts': 'export default () => 1\n' })
    expect((await prepare(a, none)).deps).toBeUndefined()
    expect(a.installStats()).toEqual({ builds: 0, hits: 0 })
    expect((await (await fns.run(a, local)).invoke(fns.request(null))).output).toBe('hi')
  })
})
