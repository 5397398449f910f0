// Log caps on a real runtime: a huge line is cut, not fatal; an invocation's logs are bounded.
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { node } from '@fn/runtime-node'
import { describeRuntime } from '@fn/tooling/runtimes'
import { afterAll, beforeAll, expect, it } from 'vitest'
import { createExecutor, type Executor } from './index'

describeRuntime('node', 'log caps', (bin) => {
  let dir: string
  let ex: Executor
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'fn-logs-'))
    await mkdir(join(dir, 'loud'))
    await writeFile(
      join(dir, 'loud', 'index.mjs'),
      `import { writeSync } from 'node:fs'
export default (input, ctx) => {
  if (input.mode === 'line') console.log('x'.repeat(1024 * 1024))
  if (input.mode === 'structured') ctx.log.info('y'.repeat(1024 * 1024))
  if (input.mode === 'flood') for (let i = 0; i < 4096; i++) process.stdout.write('z'.repeat(1023) + '\\n')
  if (input.mode === 'raw') writeSync(2, 'raw stderr line\\n')
  return 'still fine'
}
`,
    )
    ex = createExecutor({ dir, runtimes: [node({ bin })], cacheDir: `${dir}-cache` })
    await ex.start()
  })
  afterAll(async () => {
    await ex.close()
    await rm(dir, { recursive: true, force: true })
  })

  it.each(['line', 'structured'])('cuts a 1 MiB %s log line and still answers', async (mode) => {
    const res = await ex.invoke('loud', { mode })
    expect(res.output).toBe('still fine')
    expect(res.logs).toHaveLength(1)
    expect(Buffer.byteLength(res.logs[0]!.message)).toBeLessThan(20 * 1024)
    expect(res.logs[0]!.message).toMatch(/truncated \d+ bytes/)
  })

  it('answers INVALID_INPUT for input that cannot be sent, and the worker keeps serving', async () => {
    const res = await ex.invoke('loud', { mode: 1n })
    expect(res.error?.code).toBe('INVALID_INPUT')
    expect((await ex.invoke('loud', { mode: 'none' })).output).toBe('still fine')
  })

  it('caps the log bytes of one invocation and says what it dropped', async () => {
    const res = await ex.invoke('loud', { mode: 'flood' })
    expect(res.error).toBeUndefined()
    expect(res.output).toBe('still fine')
    const bytes = res.logs.reduce((n, l) => n + Buffer.byteLength(l.message), 0)
    expect(bytes).toBeLessThanOrEqual(1024 * 1024)
    expect(res.logs.at(-1)!.message).toMatch(/dropped/)
    const next = await ex.invoke('loud', { mode: 'raw' })
    expect(next.logs.map((l) => [l.level, l.message])).toEqual([['error', 'raw stderr line']])
  })
})
