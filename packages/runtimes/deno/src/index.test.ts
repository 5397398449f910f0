import { readFileSync, rmSync, writeFileSync } from 'node:fs'
import { createServer, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { dirname, join } from 'node:path'
import type { FunctionDefinition, Permissions } from '@fn/manifest'
import { testAdapter } from '@fn/runtime-core/conformance'
import { describeRuntime } from '@fn/tooling/runtimes'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { jsFixtures, shimTests, useFunctions } from '../../node/test/fixtures'
import { deno } from './index'

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
    pool: { min: 0, max: 1, idleTimeoutMs: 1000, maxRequests: 0 },
    env: {},
    permissions: none,
    ...overrides,
  })
  const runtime = { name: 'deno', bin: '/usr/bin/deno', version: '2.9.6' }
  const argsOf = (f: FunctionDefinition, prepared: unknown = { config: undefined }) =>
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
      const env = deno().launch(fn(), { runtime, prepared: undefined, kind: 'worker' }).env
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
    'index.mjs': `import { readFileSync, rmSync, writeFileSync } from 'node:fs'
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
