// Capacity by default: a burst of 256 callers against one function, with no fn.yaml at all, is
// queued and answered, each caller with its own result (warm handlers, and one process per call).
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises'
import { availableParallelism, tmpdir } from 'node:os'
import { join } from 'node:path'
import type { RuntimeAdapter } from '@fn/runtime-core'
import { node } from '@fn/runtime-node'
import { python } from '@fn/runtime-python'
import { describeRuntime } from '@fn/tooling/runtimes'
import { afterAll, beforeAll, expect, it } from 'vitest'
import { createExecutor, type Executor } from './index'

const BURST = 256

async function burst(ex: Executor, name: string) {
  const results = await Promise.all(
    Array.from({ length: BURST }, (_, i) => ex.invoke(name, { i, tag: `call-${i}` })),
  )
  results.forEach((res, i) => {
    expect(res.error, `call ${i}`).toBeUndefined()
    expect(res.output).toEqual({ i, tag: `call-${i}` })
  })
  return results
}

/** An executor over one function folder `echo` with `files`, for the lifetime of a describe. */
function serve(files: Record<string, string>, adapter: () => RuntimeAdapter): () => Executor {
  let dir: string
  let ex: Executor
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'fn-burst-'))
    await mkdir(join(dir, 'echo'))
    for (const [file, content] of Object.entries(files))
      await writeFile(join(dir, 'echo', file), content)
    ex = createExecutor({ dir, runtimes: [adapter()], cacheDir: `${dir}-cache` })
    await ex.start()
  })
  afterAll(async () => {
    await ex.close()
    await rm(dir, { recursive: true, force: true })
    await rm(`${dir}-cache`, { recursive: true, force: true })
  })
  return () => ex
}

describeRuntime('node', 'a burst on default settings', (bin) => {
  const ex = serve(
    {
      'index.mjs':
        'export default async (input) => { await new Promise((r) => setTimeout(r, 2)); return input }\n',
    },
    () => node({ bin }),
  )

  it(`answers ${BURST} concurrent calls, each its own, on up to pool.max = cores workers`, async () => {
    const results = await burst(ex(), 'echo')
    expect(results.some((r) => (r.queue_ms ?? 0) > 0)).toBe(true)
    const stats = ex().stats().functions['echo']!
    expect(stats.invocations).toBe(BURST)
    expect(stats.workersAlive).toBeLessThanOrEqual(availableParallelism())
    expect(stats.workersAlive).toBeGreaterThanOrEqual(1)
  })
})

describeRuntime('python', 'a burst on a stdio function', (bin) => {
  const ex = serve(
    {
      'main.py':
        'import json, sys\nreq = json.load(sys.stdin)\nprint(json.dumps({"success": True, "output": req["input"]}))\n',
      'fn.yaml': 'protocol: stdio\n',
    },
    () => python({ bin }),
  )

  it(`answers ${BURST} concurrent calls, one process each, pool.max at a time`, async () => {
    await burst(ex(), 'echo')
    expect(ex().stats().functions['echo']!.invocations).toBe(BURST)
  }, 120_000)
})
