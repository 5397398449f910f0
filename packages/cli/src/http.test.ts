/**
 * The HTTP API over a real executor and real Node functions: routes, bodies and status codes,
 * the same for both mounts: the Hono app (`app.request`) and the node:http listener over a real
 * socket.
 */
import { createServer, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { createExecutor, type Executor } from '@fn/executor'
import { RawJson } from '@fn/protocol'
import { node } from '@fn/runtime-node'
import { describeRuntime } from '@fn/tooling/runtimes'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { project } from '../test/helpers'
import { createHttpApp, createHttpHandler, type HttpInvocation, responseBody } from './http'

// biome-ignore lint/suspicious/noExplicitAny: the assertions walk arbitrary response JSON
type Json = any
const read = (res: Response): Promise<Json> => res.json()

const mounts = ['hono app', 'node:http listener']

interface Client {
  request(path: string, init?: RequestInit): Response | Promise<Response>
}

const post = (app: Client, name: string, body: string, headers: Record<string, string> = {}) =>
  app.request(`/functions/${name}`, {
    method: 'POST',
    body,
    headers: { 'content-type': 'application/json', ...headers },
  })

describeRuntime('node', 'HTTP API', (bin) => {
  let p: Awaited<ReturnType<typeof project>>
  let executor: Executor
  const seen: HttpInvocation[] = []
  const options = { maxBodyBytes: 1024, onInvoke: (i: HttpInvocation) => seen.push(i) }

  beforeAll(async () => {
    p = await project({
      'echo/index.mjs': `export default async function (input, ctx) {
  ctx.log.info('echoing')
  return { input, request_id: ctx.request_id }
}
`,
      // biome-ignore lint/suspicious/noTemplateCurlyInString: fn.yaml's ${VAR} syntax
      'echo/fn.yaml': 'description: Echoes its input\nenv:\n  SECRET: ${HOST_SECRET}\n',
      'fails/index.mjs': `export default async function () {
  throw Object.assign(new Error('it went wrong'), { code: 'OOPS' })
}
`,
      'slow/index.mjs': `export default async function (input) {
  await new Promise((r) => setTimeout(r, input?.ms ?? 0))
  return { slept: input?.ms ?? 0 }
}
`,
      'slow/fn.yaml': 'timeout: 300ms\n',
      'single/index.mjs': `export default async function (input) {
  await new Promise((r) => setTimeout(r, input?.ms ?? 0))
  return 'done'
}
`,
      'single/fn.yaml': 'concurrency: 1\n',
      'snake/main.py': 'def handler(input, ctx):\n    return 1\n',
    })
    executor = createExecutor({
      dir: p.functions,
      runtimes: [node({ bin })],
      maxQueue: 0,
      hostEnv: { HOST_SECRET: 's3cret-value' },
    })
    await executor.start()
  })
  afterAll(async () => {
    await executor?.close()
    await p?.cleanup()
  })

  describe.each(mounts)('%s', (mount) => {
    let app: Client
    let server: Server | undefined
    beforeAll(async () => {
      if (mount === 'hono app') {
        app = createHttpApp(executor, options)
        return
      }
      const s = createServer(createHttpHandler(executor, options))
      server = s
      await new Promise<void>((resolve) => s.listen(0, '127.0.0.1', resolve))
      const base = `http://127.0.0.1:${(s.address() as AddressInfo).port}`
      app = { request: (path, init) => fetch(`${base}${path}`, init) }
    })
    afterAll(async () => {
      server?.closeAllConnections()
      await new Promise((resolve) => (server ? server.close(resolve) : resolve(undefined)))
    })

    it('200: POST /functions/:name answers the response object', async () => {
      const res = await post(app, 'echo', '{"a":[1,2]}', { 'x-request-id': 'req-42' })
      expect(res.status).toBe(200)
      expect(res.headers.get('content-type')).toContain('application/json')
      const body = await read(res)
      expect(body).toMatchObject({
        request_id: 'req-42',
        success: true,
        output: { input: { a: [1, 2] }, request_id: 'req-42' },
        logs: [expect.objectContaining({ level: 'info', message: 'echoing' })],
      })
      expect(typeof body.duration_ms).toBe('number')
      expect(seen.at(-1)).toMatchObject({
        name: 'echo',
        status: 200,
        response: { request_id: 'req-42' },
      })
    })

    it('200: an empty body is a null input', async () => {
      const res = await post(app, 'echo', '')
      expect(res.status).toBe(200)
      expect((await read(res)).output.input).toBeNull()
    })

    it('400: a body that is not JSON is INVALID_INPUT', async () => {
      const res = await post(app, 'echo', '{"a":')
      expect(res.status).toBe(400)
      const body = await read(res)
      expect(body).toMatchObject({ success: false, error: { code: 'INVALID_INPUT' } })
      expect(body.error.message).toContain('not valid JSON')
      expect(seen.at(-1)).toMatchObject({ name: 'echo', status: 400 })
    })

    it('404: POST to an unknown function is FUNCTION_NOT_FOUND', async () => {
      const res = await post(app, 'nope', '{}')
      expect(res.status).toBe(404)
      expect((await read(res)).error).toMatchObject({ code: 'FUNCTION_NOT_FOUND' })
    })

    it('413: a body over the limit is PAYLOAD_TOO_LARGE, the function is not called', async () => {
      const before = executor.stats().functions['echo']?.invocations
      const res = await post(app, 'echo', JSON.stringify({ text: 'x'.repeat(2000) }))
      expect(res.status).toBe(413)
      const body = await read(res)
      expect(body.error.code).toBe('PAYLOAD_TOO_LARGE')
      expect(body.error.message).toContain('1024 bytes')
      expect(executor.stats().functions['echo']?.invocations).toBe(before)
    })

    it('500: the function error, with its own code', async () => {
      const res = await post(app, 'fails', '{}')
      expect(res.status).toBe(500)
      expect((await read(res)).error).toMatchObject({ code: 'OOPS', message: 'it went wrong' })
    })

    it('504: a function over its timeout is TIMEOUT', async () => {
      const res = await post(app, 'slow', '{"ms":3000}')
      expect(res.status).toBe(504)
      expect((await read(res)).error.code).toBe('TIMEOUT')
      const ok = await post(app, 'slow', '{"ms":5}')
      expect(ok.status).toBe(200)
    })

    it('429: a call beyond the function concurrency with no queue is BUSY', async () => {
      const first = post(app, 'single', '{"ms":800}')
      // Let the first call take the only slot.
      await new Promise((r) => setTimeout(r, 150))
      const second = await post(app, 'single', '{"ms":0}')
      expect(second.status).toBe(429)
      expect((await read(second)).error.code).toBe('BUSY')
      expect((await first).status).toBe(200)
    })

    it('503: a function whose runtime is not registered is RUNTIME_NOT_AVAILABLE', async () => {
      const res = await post(app, 'snake', '{}')
      expect(res.status).toBe(503)
      const body = await read(res)
      expect(body.error.code).toBe('RUNTIME_NOT_AVAILABLE')
      expect(body.error.message).toContain('python')
    })

    it('GET /functions lists every function with its status', async () => {
      const res = await app.request('/functions')
      expect(res.status).toBe(200)
      const body = await read(res)
      expect(body.count).toBe(5)
      expect(body.functions.map((f: { name: string }) => f.name)).toEqual([
        'echo',
        'fails',
        'single',
        'slow',
        'snake',
      ])
      expect(body.functions[0]).toEqual({
        name: 'echo',
        runtime: 'node',
        protocol: 'handler',
        mode: 'warm',
        description: 'Echoes its input',
        status: 'ready',
      })
      expect(body.functions[4]).toMatchObject({
        name: 'snake',
        status: 'error',
        error: { code: 'RUNTIME_NOT_AVAILABLE' },
      })
    })

    it('GET /functions/:name shows the definition with env names, never values', async () => {
      const res = await app.request('/functions/echo')
      expect(res.status).toBe(200)
      const text = await res.text()
      expect(text).not.toContain('s3cret-value')
      expect(JSON.parse(text)).toMatchObject({
        name: 'echo',
        entry: 'index.mjs',
        env: ['SECRET'],
        timeoutMs: 30_000,
      })
      const missing = await app.request('/functions/nope')
      expect(missing.status).toBe(404)
      expect((await read(missing)).error.code).toBe('FUNCTION_NOT_FOUND')
    })

    it('GET /healthz and /stats', async () => {
      const health = await read(await app.request('/healthz'))
      expect(health).toMatchObject({
        ok: true,
        functions: 5,
        runtimes: [{ name: 'node', error: null }],
      })
      expect(health.runtimes[0].version).toMatch(/^\d+\.\d+/)
      const stats = await read(await app.request('/stats'))
      expect(stats.functions.echo.invocations).toBeGreaterThanOrEqual(2)
      // Both mounts share one executor: each mount added one of each.
      const n = mounts.indexOf(mount) + 1
      expect(stats.functions.fails.errors).toEqual({ OOPS: n })
      expect(stats.functions.slow.errors).toEqual({ TIMEOUT: n })
      expect(stats.functions.single.errors).toEqual({ BUSY: n })
    })

    it('404 for any other route, as a response object', async () => {
      const res = await app.request('/nowhere')
      expect(res.status).toBe(404)
      expect((await read(res)).error).toMatchObject({
        code: 'FUNCTION_NOT_FOUND',
        message: '[fn] no route GET /nowhere',
      })
      expect((await app.request('/functions/echo', { method: 'DELETE' })).status).toBe(404)
    })
  })
})

it('writes a RawJson output into the body as it is: one serialisation, exact integers', () => {
  const body = responseBody({
    request_id: 'r',
    success: true,
    output: new RawJson('{"big":18446744073709551617,"s":"é"}'),
    logs: [],
    duration_ms: 1,
  })
  expect(body).toContain('"output":{"big":18446744073709551617,"s":"é"}')
  expect(JSON.parse(body)).toEqual({
    output: { big: 2 ** 64, s: 'é' }, // JSON.parse rounds it; the body above does not
    request_id: 'r',
    success: true,
    logs: [],
    duration_ms: 1,
  })
})
