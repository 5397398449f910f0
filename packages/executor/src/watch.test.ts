import { mkdir, mkdtemp, rename, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { eventually } from '../test/eventually'
import { sh } from '../test/sh-adapter'
import { createExecutor, type Executor, type ExecutorEvent } from './index'

let dir: string
let ex: Executor
let events: ExecutorEvent[]

const script = (output: string) =>
  `cat > /dev/null; echo '{"success": true, "output": ${output}}'\n`

async function write(name: string, output: string): Promise<void> {
  await mkdir(join(dir, name), { recursive: true })
  await writeFile(join(dir, name, 'fn.yaml'), 'protocol: stdio\n')
  await writeFile(join(dir, name, 'main.sh'), script(output))
}

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'fn-watch-'))
  events = []
  await write('one', '1')
  ex = createExecutor({
    dir,
    runtimes: [sh()],
    cacheDir: join(dir, '..', `${dir}-cache`),
    onEvent: (e) => events.push(e),
  })
  await ex.start()
  await ex.watch({ debounceMs: 30 })
})
afterEach(async () => {
  await ex.close()
  await rm(dir, { recursive: true, force: true })
})

describe('watch', () => {
  it('picks up an edited entry without a restart', async () => {
    await write('one', '2')
    await eventually(async () => expect((await ex.invoke('one', {})).output).toBe(2))
  })

  it('adds, renames and removes function folders', async () => {
    await write('two', '"two"')
    await eventually(async () => expect((await ex.invoke('two', {})).output).toBe('two'))
    await rename(join(dir, 'two'), join(dir, 'three'))
    await eventually(async () => expect((await ex.invoke('three', {})).output).toBe('two'))
    expect((await ex.invoke('two', {})).error?.code).toBe('FUNCTION_NOT_FOUND')
    await rm(join(dir, 'three'), { recursive: true })
    await eventually(async () =>
      expect((await ex.invoke('three', {})).error?.code).toBe('FUNCTION_NOT_FOUND'),
    )
  })

  it('treats a burst of writes as one change', async () => {
    const before = events.filter((e) => e.type === 'reloaded').length
    for (let i = 0; i < 10; i++)
      await writeFile(join(dir, 'one', 'main.sh'), script(String(100 + i)))
    await eventually(async () => expect((await ex.invoke('one', {})).output).toBe(109))
    await new Promise((r) => setTimeout(r, 300))
    const reloads = events.filter((e) => e.type === 'reloaded').length - before
    expect(reloads).toBeGreaterThanOrEqual(1)
    expect(reloads).toBeLessThanOrEqual(2)
  })

  it('ignores node_modules', async () => {
    const before = events.length
    await mkdir(join(dir, 'one', 'node_modules', 'x'), { recursive: true })
    await writeFile(join(dir, 'one', 'node_modules', 'x', 'index.js'), '')
    await new Promise((r) => setTimeout(r, 400))
    expect(events.slice(before).filter((e) => e.type === 'reloaded')).toEqual([])
  })

  it('keeps serving the last good version through a broken fn.yaml, then recovers', async () => {
    await writeFile(join(dir, 'one', 'fn.yaml'), 'protocol: stdio\nmemory: lots\n')
    await eventually(async () => expect(ex.list()[0]?.status).toBe('stale'))
    expect((await ex.invoke('one', {})).output).toBe(1)
    expect(ex.get('one')?.error?.message).toContain('memory')
    await writeFile(join(dir, 'one', 'fn.yaml'), 'protocol: stdio\n')
    await write('one', '5')
    await eventually(async () => expect((await ex.invoke('one', {})).output).toBe(5))
    await eventually(async () => expect(ex.list()[0]?.status).toBe('ready'))
  })
})
