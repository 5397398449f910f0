// The example server over real HTTP: every route of DESIGN.md, with every runtime.
import { describeRuntime, isCI, RUNTIMES, runtimeBinary } from '@fn/tooling/runtimes'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { type ExampleServer, startExample } from './example'

let server: ExampleServer

const post = (name: string, body: string, headers: Record<string, string> = {}) =>
  fetch(`${server.url}/functions/${name}`, { method: 'POST', body, headers })

beforeAll(async () => {
  server = await startExample({ port: 0, maxBodyBytes: 1024 * 1024 })
}, 180_000)
afterAll(() => server?.close())

describe('example server', () => {
  it('has no broken functions', () => {
    const missing = RUNTIMES.filter((r) => !runtimeBinary(r))
    if (missing.length && !isCI) return // the per-runtime suites below say which are skipped
    expect(server.executor.problems()).toEqual([])
    expect(server.executor.list().filter((f) => f.status !== 'ready')).toEqual([])
  })

  it('GET /functions lists them all, two per runtime at least', async () => {
    const res = await fetch(`${server.url}/functions`)
    expect(res.status).toBe(200)
    const body = (await res.json()) as {
      functions: Array<{ name: string; runtime: string }>
      count: number
    }
    expect(body.count).toBe(body.functions.length)
    for (const runtime of RUNTIMES) {
      expect(body.functions.filter((f) => f.runtime === runtime).length).toBeGreaterThanOrEqual(2)
    }
    expect(body.functions[0]).toEqual(
      expect.objectContaining({
        name: expect.any(String),
        runtime: expect.any(String),
        protocol: expect.any(String),
        mode: expect.any(String),
      }),
    )
  })

  it('GET /functions/:name shows a definition, env names only; 404 for an unknown one', async () => {
    const res = await fetch(`${server.url}/functions/hello`)
    expect(res.status).toBe(200)
    expect(await res.json()).toMatchObject({
      name: 'hello',
      runtime: 'node',
      protocol: 'handler',
      mode: 'warm',
    })
    const missing = await fetch(`${server.url}/functions/nope`)
    expect(missing.status).toBe(404)
    expect(await missing.json()).toMatchObject({
      success: false,
      error: { code: 'FUNCTION_NOT_FOUND' },
    })
  })

  it('POST answers 400 for a body that is not JSON, 413 for one too large, 404 for no function', async () => {
    const bad = await post('hello', '{"name":')
    expect(bad.status).toBe(400)
    expect(await bad.json()).toMatchObject({ error: { code: 'INVALID_INPUT' } })
    const big = await post('hello', JSON.stringify({ name: 'x'.repeat(2 * 1024 * 1024) }))
    expect(big.status).toBe(413)
    expect(await big.json()).toMatchObject({ error: { code: 'PAYLOAD_TOO_LARGE' } })
    const none = await post('nope', '{}')
    expect(none.status).toBe(404)
  })

  it('POST answers 500 with the error of a function that fails on purpose', async () => {
    const res = await post('always-fails', '{}')
    expect(res.status).toBe(500)
    expect(await res.json()).toMatchObject({
      success: false,
      error: { code: 'ALWAYS_FAILS', message: 'this function always fails' },
      logs: [expect.objectContaining({ level: 'error', message: 'about to fail on purpose' })],
    })
  })

  it('GET /healthz and /stats', async () => {
    await post('hello', '{"name":"stats"}')
    const health = await fetch(`${server.url}/healthz`)
    expect(health.status).toBe(200)
    expect(await health.json()).toMatchObject({ ok: true })
    const stats = (await (await fetch(`${server.url}/stats`)).json()) as {
      functions: Record<string, { invocations: number; p50Ms: number | null; workersAlive: number }>
    }
    expect(stats.functions['hello']!.invocations).toBeGreaterThanOrEqual(1)
    expect(stats.functions['hello']!.p50Ms).toBeGreaterThan(0)
    expect(stats.functions['hello']!.workersAlive).toBeGreaterThanOrEqual(1)
  })
})

/** What each example function must answer, per runtime. */
const CASES: Array<{
  runtime: (typeof RUNTIMES)[number]
  name: string
  input: unknown
  output: unknown
}> = [
  { runtime: 'node', name: 'hello', input: { name: 'Ada' }, output: { message: 'Hello, Ada!' } },
  {
    runtime: 'node',
    name: 'slugify',
    input: { title: 'Héllo, Wörld!' },
    output: { slug: 'hello-world' },
  },
  { runtime: 'deno', name: 'base64', input: { text: 'héllo' }, output: { result: 'aMOpbGxv' } },
  {
    runtime: 'deno',
    name: 'reshape',
    input: {
      by: 'c',
      sum: 'n',
      records: [
        { c: 'a', n: 1 },
        { c: 'a', n: 2 },
        { c: 'b', n: 5 },
      ],
    },
    output: { groups: { a: { count: 2, total: 3 }, b: { count: 1, total: 5 } } },
  },
  {
    runtime: 'bun',
    name: 'fast-hash',
    input: { text: 'hello' },
    output: { crc32: '3610a686', bytes: 5 },
  },
  {
    runtime: 'bun',
    name: 'title-case',
    input: { text: 'the lord of the rings' },
    output: { title: 'The Lord of the Rings' },
  },
  {
    runtime: 'python',
    name: 'stats',
    input: { numbers: [1, 2, 3, 4, 10] },
    output: { mean: 4, median: 3 },
  },
  {
    runtime: 'python',
    name: 'word-count',
    input: { text: 'the cat and the hat' },
    output: {
      words: 5,
      top: [
        ['the', 2],
        ['cat', 1],
        ['and', 1],
      ],
    },
  },
  {
    runtime: 'go',
    name: 'fib',
    input: { n: 10 },
    output: { numbers: [0, 1, 1, 2, 3, 5, 8, 13, 21, 34] },
  },
  {
    runtime: 'go',
    name: 'checksum',
    input: { text: 'hello' },
    output: {
      sha256: '2cf24dba5fb0a30e26e83b2ac5b9e29e1b161e5c1fa7425e73043362938b9824',
      bytes: 5,
    },
  },
]

for (const runtime of RUNTIMES) {
  describeRuntime(runtime, 'example functions over HTTP', () => {
    for (const c of CASES.filter((x) => x.runtime === runtime)) {
      it(`${c.name} answers 200 with real work`, async () => {
        const res = await post(c.name, JSON.stringify(c.input), {
          'x-request-id': `test-${c.name}`,
        })
        const body = (await res.json()) as { success: boolean; output: unknown; request_id: string }
        expect(body).toMatchObject({
          success: true,
          request_id: `test-${c.name}`,
          output: c.output,
        })
        expect(res.status).toBe(200)
      })
    }
  })
}

describeRuntime('go', 'example typed errors', () => {
  it('a Go handler error with its own code answers with that code', async () => {
    const res = await post('fib', '{"n": 500}')
    expect(res.status).toBe(400)
    expect(await res.json()).toMatchObject({
      error: { code: 'INVALID_INPUT', message: expect.stringContaining('93') },
    })
  })
})
