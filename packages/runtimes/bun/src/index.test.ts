import { readFileSync } from 'node:fs'
import { testAdapter } from '@fn/runtime-core/conformance'
import { describeRuntime } from '@fn/tooling/runtimes'
import { expect, it } from 'vitest'
import { jsFixtures, packageDepsTests, shimTests, useFunctions } from '../../node/test/fixtures'
import { bun } from './index'

describeRuntime('bun', 'conformance', (bin) => {
  testAdapter({ name: 'bun', adapter: (b) => bun({ bin: b }), bin, fixtures: jsFixtures })
})

describeRuntime('bun', 'bun adapter', () => {
  const fns = useFunctions('bun')

  it('resolves the real binary from the npm package', async () => {
    const info = await bun().resolve()
    expect(readFileSync(info.bin).subarray(0, 4).toString('latin1')).toBe('\x7fELF')
    expect(info.version).toMatch(/^1\.\d+\.\d+$/)
  })

  it('does not load a .env file from the function folder (only declared env gets in)', async () => {
    const files = {
      'index.ts':
        'export default () => ({ leaked: process.env.FROM_DOTENV ?? null, declared: process.env.DECLARED })\n',
      '.env': 'FROM_DOTENV=leaked\n',
    }
    for (const protocol of ['handler', 'stdio'] as const) {
      const source =
        protocol === 'handler'
          ? files
          : {
              ...files,
              'index.ts': `const output = { leaked: process.env.FROM_DOTENV ?? null, declared: process.env.DECLARED }
await Bun.stdin.text()
console.log(JSON.stringify({ success: true, output }))
`,
            }
      const r = await fns.start(bun(), source, {
        protocol,
        mode: protocol === 'stdio' ? 'oneshot' : 'warm',
        env: { DECLARED: 'yes' },
      })
      const out = await r.invoke(fns.request(null))
      expect(out.error).toBeUndefined()
      expect(out.output).toEqual({ leaked: null, declared: 'yes' })
    }
  })

  shimTests(fns, bun)
})

/** package.json `"ms": "^2.1.0"`, locked at 2.1.2. */
const bunLock = `{
  "lockfileVersion": 1,
  "workspaces": {
    "": {
      "name": "fn-test",
      "dependencies": {
        "ms": "^2.1.0",
      },
    },
  },
  "packages": {
    "ms": ["ms@2.1.2", "", {}, "sha512-sGkPx+VjMtmA6MX27oA4FBFELFCZZ4S4XqeGOXCv68tT+jb3vk/RyaKWP0PTKyWtmLSM0b+adUTEvbs1PEaH2w=="],
  }
}
`

describeRuntime('bun', 'bun: package.json dependencies (bun install)', () => {
  const fns = useFunctions('bun-deps')

  packageDepsTests(fns, bun, { 'bun.lock': bunLock })

  it('never downloads a package on import (no auto-install)', async () => {
    const r = await fns.start(bun(), {
      'index.ts': "import ms from 'ms'\nexport default () => ms('1h')\n",
    })
    const out = await r.invoke(fns.request(null))
    expect(out.error).toMatchObject({
      code: 'BUILD_FAILED',
      message: expect.stringContaining("Cannot find package 'ms'"),
    })
  })

  it('rejects a bun.lock out of step with package.json (frozen) with BUILD_FAILED', async () => {
    const fn = await fns.define('bun', {
      'index.ts': 'export default () => 1\n',
      'package.json': JSON.stringify({ dependencies: { ms: '^2.1.0', 'is-number': '7.0.0' } }),
      'bun.lock': bunLock,
    })
    await expect(fns.run(bun(), fn)).rejects.toMatchObject({
      code: 'BUILD_FAILED',
      message: expect.stringContaining('lockfile had changes, but lockfile is frozen'),
    })
  })
})
