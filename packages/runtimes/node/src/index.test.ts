import { realpathSync } from 'node:fs'
import { tmpdir } from 'node:os'
import type { FunctionDefinition } from '@fn/manifest'
import { BASE_ENV } from '@fn/runtime-core'
import { testAdapter } from '@fn/runtime-core/conformance'
import { describeRuntime } from '@fn/tooling/runtimes'
import { describe, expect, it } from 'vitest'
import { jsFixtures, packageDepsTests, shimTests, useFunctions } from '../test/fixtures'
import { node } from './index'

describeRuntime('node', 'conformance', (bin) => {
  testAdapter({ name: 'node', adapter: (b) => node({ bin: b }), bin, fixtures: jsFixtures })
})

const tsFunction = (entry = 'index.ts'): FunctionDefinition => ({
  name: 'ts',
  dir: tmpdir(),
  entry: `${tmpdir()}/${entry}`,
  entryRelative: entry,
  runtime: 'node',
  protocol: 'handler',
  mode: 'warm',
  timeoutMs: 1000,
  pool: { min: 0, max: 1, idleTimeoutMs: 1000, maxRequests: 0, concurrency: 1 },
  env: {},
  permissions: { net: false, read: false, write: false, env: false, run: false },
})

describe('node: TypeScript entries', () => {
  const flagsOn = async (version: string, options: Parameters<typeof node>[0] = {}) => {
    const adapter = node(options)
    const runtime = { name: 'node', bin: '/usr/bin/node', version }
    const prepared = await adapter.prepare?.(tsFunction(), { runtime, cacheDir: tmpdir() })
    return adapter.launch(tsFunction(), { runtime, prepared, kind: 'worker' }).args
  }

  it("uses Node's own type stripping where the version has it", async () => {
    const quiet = '--disable-warning=ExperimentalWarning'
    expect(await flagsOn('22.6.0')).toEqual([
      '--experimental-strip-types',
      quiet,
      expect.any(String),
      `${tmpdir()}/index.ts`,
    ])
    expect(await flagsOn('22.17.1')).toContain('--experimental-strip-types')
    expect(await flagsOn('23.1.0')).toContain('--experimental-strip-types')
    for (const version of ['22.18.0', '23.6.0', '24.0.0']) {
      const args = await flagsOn(version)
      expect(args).toContain(quiet)
      expect(args).not.toContain('--experimental-strip-types')
    }
  })

  it('registers tsx with --import below 22.6, or when asked to', async () => {
    for (const args of [
      await flagsOn('20.19.0'),
      await flagsOn('24.0.0', { typescript: 'loader' }),
    ]) {
      expect(args[0]).toBe('--import')
      expect(args[1]).toMatch(/^file:\/\/.*\/tsx\/dist\/loader\.mjs$/)
    }
  })

  it('fails with RUNTIME_NOT_AVAILABLE and says how when no loader is installed', async () => {
    await expect(flagsOn('20.19.0', { tsLoader: 'fn-no-such-loader' })).rejects.toMatchObject({
      code: 'RUNTIME_NOT_AVAILABLE',
      message: expect.stringMatching(/type stripping needs Node 22\.6.*npm i -D fn-no-such-loader/),
    })
  })

  it('leaves JavaScript entries alone', async () => {
    const adapter = node()
    const fn = { ...tsFunction('index.mjs'), memoryMb: 96 }
    const runtime = { name: 'node', bin: '/usr/bin/node', version: '20.19.0' }
    const prepared = await adapter.prepare?.(fn, { runtime, cacheDir: tmpdir() })
    expect(adapter.launch(fn, { runtime, prepared, kind: 'stdio' }).args).toEqual([
      '--max-old-space-size=96',
      fn.entry,
    ])
  })
})

describeRuntime('node', 'node adapter', () => {
  const fns = useFunctions('node')

  it('uses the node on PATH (resolved to the real binary), else the node running fn', async () => {
    const info = await node().resolve()
    expect(info.version).toMatch(/^\d+\.\d+\.\d+$/)
    expect(info.bin).toBe(realpathSync(info.bin))
    const path = process.env['PATH']
    process.env['PATH'] = '/nonexistent'
    try {
      expect((await node().resolve()).bin).toBe(realpathSync(process.execPath))
    } finally {
      process.env['PATH'] = path
    }
  })

  it('runs a TypeScript stdio script through the same loader', async () => {
    const r = await fns.start(
      node(),
      {
        'main.ts': `import { Buffer } from 'node:buffer'
import process from 'node:process'

const chunks: Buffer[] = []
for await (const chunk of process.stdin) chunks.push(chunk as Buffer)
const request: { input: { n: number } } = JSON.parse(Buffer.concat(chunks).toString())
process.stdout.write(JSON.stringify({ success: true, output: request.input.n * 2 }))
`,
        // Top-level await needs ESM: a .ts file follows the package type, like a .js file.
        'package.json': '{ "type": "module" }',
      },
      { protocol: 'stdio', mode: 'oneshot' },
    )
    const out = await r.invoke(fns.request({ n: 4 }))
    expect(out.error).toBeUndefined()
    expect(out.output).toBe(8)
  })

  it('keeps the host environment out, NODE_EXTRA_CA_CERTS included', async () => {
    const r = await fns.start(
      node(),
      { 'index.mjs': 'export default () => Object.keys(process.env).sort()' },
      { env: { DECLARED: 'yes' } },
    )
    const keys = (await r.invoke(fns.request(null))).output as string[]
    expect(keys).toContain('DECLARED')
    expect(keys).not.toContain('NODE_EXTRA_CA_CERTS')
    for (const key of keys) expect([...BASE_ENV, 'DECLARED']).toContain(key)
  })

  it('caps the heap at the memory limit', async () => {
    const r = await fns.start(
      node(),
      {
        'index.mjs': `import v8 from 'node:v8'
export default () => v8.getHeapStatistics().heap_size_limit / 1024 / 1024`,
      },
      { memoryMb: 64 },
    )
    const limitMb = (await r.invoke(fns.request(null))).output as number
    expect(limitMb).toBeGreaterThan(32)
    expect(limitMb).toBeLessThan(128)
  })

  it('serves CommonJS handlers (module.exports and exports.handler)', async () => {
    const a = await fns.start(node(), {
      'index.cjs': 'module.exports = (input) => ({ cjs: input })',
    })
    expect((await a.invoke(fns.request(1))).output).toEqual({ cjs: 1 })
    const b = await fns.start(node(), {
      'index.cjs': 'exports.handler = async (input) => input + 1',
    })
    expect((await b.invoke(fns.request(1))).output).toBe(2)
  })

  shimTests(fns, node)
})

/** package.json `"ms": "^2.1.0"`, locked at 2.1.2. */
const packageLock = JSON.stringify({
  name: 'fn-test',
  lockfileVersion: 3,
  requires: true,
  packages: {
    '': { name: 'fn-test', dependencies: { ms: '^2.1.0' } },
    'node_modules/ms': {
      version: '2.1.2',
      resolved: 'https://registry.npmjs.org/ms/-/ms-2.1.2.tgz',
      integrity:
        'sha512-sGkPx+VjMtmA6MX27oA4FBFELFCZZ4S4XqeGOXCv68tT+jb3vk/RyaKWP0PTKyWtmLSM0b+adUTEvbs1PEaH2w==',
    },
  },
})

describeRuntime('node', 'node: package.json dependencies (npm)', () => {
  const fns = useFunctions('node-deps')

  packageDepsTests(fns, node, { 'package-lock.json': packageLock })

  it('serves CommonJS functions from the installed packages too', async () => {
    const r = await fns.start(node(), {
      'index.cjs': `const isNumber = require('is-number')
module.exports = (input) => ({ isNumber: isNumber(input), from: require.resolve('is-number') })
`,
      'package.json': JSON.stringify({ dependencies: { 'is-number': '7.0.0' } }),
    })
    const out = await r.invoke(fns.request('7'))
    expect(out.error).toBeUndefined()
    expect(out.output).toMatchObject({ isNumber: true, from: expect.stringContaining('/deps-') })
  })

  it('keeps installs with and without install scripts apart', async () => {
    const files = {
      'index.mjs': "import isNumber from 'is-number'\nexport default (n) => isNumber(n)\n",
      'package.json': JSON.stringify({ type: 'module', dependencies: { 'is-number': '7.0.0' } }),
    }
    const quiet = node()
    const scripted = node({ installScripts: true })
    const a = await fns.define('node', files)
    const b = await fns.define('node', files)
    const runtime = await quiet.resolve()
    const pa = await quiet.prepare(a, { runtime, cacheDir: fns.cacheDir() })
    const pb = await scripted.prepare(b, { runtime, cacheDir: fns.cacheDir() })
    expect(pa.deps?.key).not.toBe(pb.deps?.key)
    expect(scripted.installStats().builds).toBe(1)
    expect((await (await fns.run(scripted, b)).invoke(fns.request(3))).output).toBe(true)
  })

  it('rejects a dependency on a local path with BUILD_FAILED that says what to do', async () => {
    const fn = await fns.define('node', {
      'index.mjs': 'export default () => 1\n',
      'package.json': JSON.stringify({ dependencies: { lib: 'file:../lib' } }),
    })
    await expect(fns.run(node(), fn)).rejects.toMatchObject({
      code: 'BUILD_FAILED',
      message: expect.stringMatching(
        /"lib" at "file:\.\.\/lib", a local path.*install the dependencies yourself/,
      ),
    })
  })
})
