// fn.yaml memory on a runtime without a heap flag of its own (bun): the watchdog enforces it,
// for warm workers and stdio processes alike, and a replaced worker serves the next call.
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { bun } from '@fn/runtime-bun'
import { describeRuntime } from '@fn/tooling/runtimes'
import { afterAll, beforeAll, expect, it } from 'vitest'
import { createExecutor, type Executor } from './index'

const hog = `const hold: Uint8Array[] = []
export default async (input: { grow?: boolean }) => {
  if (!input?.grow) return 'small'
  for (;;) {
    hold.push(new Uint8Array(8 << 20).fill(1))
    await new Promise((r) => setTimeout(r, 5))
  }
}
`
const stdioHog = `const hold: Uint8Array[] = []
const input = JSON.parse(await Bun.stdin.text()).input
if (input?.grow) for (;;) { hold.push(new Uint8Array(8 << 20).fill(1)); await Bun.sleep(5) }
console.log(JSON.stringify({ success: true, output: 'small' }))
`

describeRuntime('bun', 'memory limit', (bin) => {
  let dir: string
  let ex: Executor
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'fn-memory-'))
    for (const [name, source, protocol] of [
      ['hog', hog, 'handler'],
      ['stdio-hog', stdioHog, 'stdio'],
    ] as const) {
      await mkdir(join(dir, name))
      await writeFile(join(dir, name, 'index.ts'), source)
      await writeFile(join(dir, name, 'bunfig.toml'), '')
      await writeFile(
        join(dir, name, 'fn.yaml'),
        `protocol: ${protocol}\nmemory: 160mb\ntimeout: 20s\n`,
      )
    }
    ex = createExecutor({ dir, runtimes: [bun({ bin })], cacheDir: `${dir}-cache` })
    await ex.start()
  })
  afterAll(async () => {
    await ex.close()
    await rm(dir, { recursive: true, force: true })
  })

  it.each(['hog', 'stdio-hog'])(
    '%s: MEMORY_LIMIT past the limit, then the next call works',
    async (name) => {
      const res = await ex.invoke(name, { grow: true })
      expect(res.error?.code).toBe('MEMORY_LIMIT')
      expect(res.error?.message).toMatch(/over its memory limit of 160 MB/)
      const next = await ex.invoke(name, {})
      expect(next.output).toBe('small')
    },
  )
})
