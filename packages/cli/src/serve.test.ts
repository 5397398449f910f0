/** `fn serve` and `fn dev` as subprocesses, answering over real HTTP on a free port. */
import { createServer } from 'node:net'
import { describeRuntime } from '@fn/tooling/runtimes'
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import { FnProcess, fn, project } from '../test/helpers'

const HELLO = (greeting: string) => `export default async function (input, ctx) {
  ctx.log.info('saying ${greeting}', { to: input?.name })
  return { say: '${greeting}', to: input?.name ?? 'world' }
}
`

const running: FnProcess[] = []
afterEach(async () => {
  await Promise.all(running.splice(0).map((p) => p.stop()))
})

function start(args: string[], cwd: string): FnProcess {
  const proc = new FnProcess(args, { cwd })
  running.push(proc)
  return proc
}

async function call(url: string, name: string, body: string) {
  const res = await fetch(`${url}/functions/${name}`, { method: 'POST', body })
  return { status: res.status, body: (await res.json()) as Record<string, unknown> }
}

describeRuntime('node', 'fn serve', () => {
  let p: Awaited<ReturnType<typeof project>>
  beforeAll(async () => {
    p = await project({
      'hello/index.mjs': HELLO('hi'),
      'hello/fn.yaml': 'description: Greets\n',
      'fails/index.mjs': "export default () => { throw new Error('bad') }\n",
      'broken/fn.yaml': 'runtime: cobol\n',
      'slow/index.mjs':
        'export default async (input) => { await new Promise((r) => setTimeout(r, input.ms)); return input.ms }\n',
    })
  })
  afterAll(() => p.cleanup())

  it('answers 256 concurrent callers on default settings, each with its own result', async () => {
    const proc = start(['serve', '--port', '0', '--json'], p.root)
    const url = String((await proc.event('listening'))['url'])
    const results = await Promise.all(
      Array.from({ length: 256 }, (_, i) =>
        call(url, 'hello', JSON.stringify({ name: `caller-${i}` })),
      ),
    )
    results.forEach((res, i) => {
      expect(res.status, JSON.stringify(res.body)).toBe(200)
      expect(res.body['output']).toEqual({ say: 'hi', to: `caller-${i}` })
    })
  })

  it('serves the HTTP API on --port 0 and reports NDJSON events with --json', async () => {
    const proc = start(['serve', '--port', '0', '--json'], p.root)
    const listening = await proc.event('listening')
    const url = String(listening['url'])
    expect(url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/)
    expect(listening['port']).not.toBe(0)
    expect(listening['functions']).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ name: 'hello', status: 'ready' }),
        expect.objectContaining({ name: 'broken', status: 'error' }),
      ]),
    )

    const ok = await call(url, 'hello', '{"name":"Ada"}')
    expect(ok).toMatchObject({
      status: 200,
      body: { success: true, output: { say: 'hi', to: 'Ada' } },
    })
    expect((await call(url, 'fails', '{}')).status).toBe(500)
    expect((await call(url, 'hello', 'not json')).status).toBe(400)
    expect((await call(url, 'nope', '{}')).status).toBe(404)

    const list = (await (await fetch(`${url}/functions`)).json()) as { count: number }
    expect(list.count).toBe(3)
    expect((await fetch(`${url}/healthz`)).status).toBe(200)

    const invoked = await proc.event('invoke', (e) => e['name'] === 'hello' && e['status'] === 200)
    expect(invoked).toMatchObject({ success: true })
    expect(invoked).not.toHaveProperty('logs')
    await proc.event('invoke', (e) => e['name'] === 'fails' && e['status'] === 500)

    expect(await proc.stop()).toBe(0)
    expect(proc.events().at(-1)).toMatchObject({ type: 'stopped' })
  })

  it('prints the URL, the function table and access lines for humans', async () => {
    const proc = start(['serve', '--port', '0'], p.root)
    const line = await proc.waitFor((l) => l.startsWith('fn serve http://'))
    const url = /http:\/\/[\d.]+:\d+/.exec(line)?.[0] ?? ''
    await proc.waitFor((l) => /^hello\s+node\s+handler\/warm\s+ready\s+Greets/.test(l))
    await proc.waitFor((l) => /^broken\s+-\s+-\s+error/.test(l))
    await proc.waitFor((l) => l.includes('└ INVALID_MANIFEST'))
    await call(url, 'hello', '{}')
    await proc.waitFor((l) => /^POST \/functions\/hello 200 [\d.]+ms/.test(l))
    expect(proc.lines.join('\n')).not.toContain('saying hi')
    expect(await proc.stop()).toBe(0)
  })

  it('applies --max-body, --concurrency and --max-queue', async () => {
    const proc = start(['serve', '--port', '0', '--json', '--max-body', '1kb'], p.root)
    const url = String((await proc.event('listening'))['url'])
    const big = await call(url, 'hello', JSON.stringify({ name: 'x'.repeat(2048) }))
    expect(big.status).toBe(413)
    await proc.stop()

    const limited = start(
      ['serve', '--port', '0', '--json', '--concurrency', '1', '--max-queue', '0'],
      p.root,
    )
    const limitedUrl = String((await limited.event('listening'))['url'])
    const first = call(limitedUrl, 'slow', '{"ms":800}')
    await new Promise((r) => setTimeout(r, 200))
    const second = await call(limitedUrl, 'hello', '{}')
    expect(second).toMatchObject({ status: 429, body: { error: { code: 'BUSY' } } })
    expect((await first).status).toBe(200)
  })

  it('exits 1 naming the port when it is taken', async () => {
    const blocker = createServer()
    await new Promise<void>((resolve) => blocker.listen(0, '127.0.0.1', resolve))
    const port = (blocker.address() as { port: number }).port
    try {
      const run = await fn(['serve', '--port', String(port)], { cwd: p.root })
      expect(run.code).toBe(1)
      expect(run.stderr).toContain(`port ${port} on 127.0.0.1 is in use`)
    } finally {
      blocker.close()
    }
  })
})

describeRuntime('node', 'fn dev', () => {
  let p: Awaited<ReturnType<typeof project>>
  beforeAll(async () => {
    p = await project({ 'hello/index.mjs': HELLO('hi') })
  })
  afterAll(() => p.cleanup())

  it('reloads edits, keeps the last good version through a broken edit, picks up new functions', async () => {
    const proc = start(['dev', '--port', '0', '--json', '--debounce', '30'], p.root)
    const url = String((await proc.event('listening'))['url'])
    expect((await call(url, 'hello', '{}')).body['output']).toEqual({ say: 'hi', to: 'world' })
    const first = await proc.event('invoke', (e) => e['name'] === 'hello')
    expect(first['logs']).toEqual([
      expect.objectContaining({ level: 'info', message: 'saying hi' }),
    ])

    await p.write({ 'hello/index.mjs': HELLO('hello again') })
    await proc.event('reloaded', (e) => e['name'] === 'hello')
    expect((await call(url, 'hello', '{}')).body['output']).toEqual({
      say: 'hello again',
      to: 'world',
    })

    await p.write({ 'hello/index.mjs': 'export default async function (input) {\n  return {\n' })
    const broken = await proc.event('unavailable', (e) => e['name'] === 'hello')
    expect(broken['error']).toMatchObject({ code: expect.any(String) })
    const stale = await call(url, 'hello', '{}')
    expect(stale).toMatchObject({ status: 200, body: { output: { say: 'hello again' } } })
    const detail = (await (await fetch(`${url}/functions/hello`)).json()) as Record<string, unknown>
    expect(detail).toMatchObject({
      status: 'stale',
      error: { code: broken['error'] && (broken['error'] as { code: string }).code },
    })

    await p.write({ 'hello/index.mjs': HELLO('fixed') })
    await proc.event(
      'reloaded',
      (e) =>
        e['name'] === 'hello' && proc.events().filter((x) => x['type'] === 'reloaded').length >= 2,
    )
    expect((await call(url, 'hello', '{}')).body['output']).toEqual({ say: 'fixed', to: 'world' })

    await p.write({ 'added/index.mjs': "export default () => 'new'\n" })
    await proc.event('ready', (e) => e['name'] === 'added')
    expect(await call(url, 'added', '{}')).toMatchObject({ status: 200, body: { output: 'new' } })
    expect(await proc.stop()).toBe(0)
  }, 90_000)

  it('prints function logs prefixed with the function name, and reload reports', async () => {
    const proc = start(['dev', '--port', '0', '--debounce', '30'], p.root)
    const line = await proc.waitFor((l) => l.startsWith('fn dev http://'))
    expect(line).toContain('watching for changes')
    const url = /http:\/\/[\d.]+:\d+/.exec(line)?.[0] ?? ''
    await call(url, 'hello', '{"name":"Ada"}')
    await proc.waitFor((l) => /^\[hello\] info\s+saying \w+ \{"to":"Ada"\}$/.test(l))
    await proc.waitFor((l) => /^POST \/functions\/hello 200/.test(l))

    const from = proc.lines.length
    await p.write({ 'hello/index.mjs': 'export default async function (\n' })
    await proc.waitFor((l) => l.startsWith('✗ hello: '), 30_000, from)
    await proc.waitFor((l) => l.includes('still serving the last good version'), 30_000, from)
    await p.write({ 'hello/index.mjs': HELLO('back') })
    await proc.waitFor((l) => l === '↻ hello reloaded (node)', 30_000, from)
    expect(await proc.stop()).toBe(0)
  }, 90_000)
})

describe('fn dev without functions folder', () => {
  it('is a usage error naming --dir', async () => {
    const run = await fn(['dev', '--dir', 'missing'], { cwd: '/' })
    expect(run.code).toBe(2)
    expect(run.stderr).toContain('--dir missing: no such folder')
  })
})

describeRuntime('python', 'fn serve with a python function', () => {
  it('answers integers beyond 2^53 exactly as the function wrote them, and a 1 MiB output', async () => {
    const p = await project({
      'big/main.py':
        "def handler(input, ctx):\n    return {'n': 2**64 + 1, 'blob': 'x' * (input or 0)}\n",
    })
    try {
      const proc = start(['serve', '--port', '0', '--json'], p.root)
      const url = String((await proc.event('listening'))['url'])
      const res = await fetch(`${url}/functions/big`, { method: 'POST', body: '3' })
      expect(res.status).toBe(200)
      const text = await res.text()
      expect(text).toContain('"n":18446744073709551617')
      expect(JSON.parse(text)).toMatchObject({ success: true, output: { blob: 'xxx' } })
      const mib = await (
        await fetch(`${url}/functions/big`, { method: 'POST', body: String(1 << 20) })
      ).json()
      expect((mib as { output: { blob: string } }).output.blob.length).toBe(1 << 20)
    } finally {
      await p.cleanup()
    }
  })
})
