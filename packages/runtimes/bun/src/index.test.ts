import { readFileSync } from 'node:fs'
import { testAdapter } from '@fn/runtime-core/conformance'
import { describeRuntime } from '@fn/tooling/runtimes'
import { expect, it } from 'vitest'
import { jsFixtures, shimTests, useFunctions } from '../../node/test/fixtures'
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
