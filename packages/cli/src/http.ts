/**
 * The HTTP API of DESIGN.md over an executor: the same routes, status codes and bodies whether it
 * runs in the example server, `fn serve` or `fn dev`.
 *
 * Two ways to mount it. `createHttpApp` is a Hono app (any fetch-based server, `app.request` in
 * tests). `createHttpHandler` is a `node:http` request listener: it serves the hot route,
 * `POST /functions/:name`, straight from Node's request and response objects, and hands every
 * other route to the Hono app. Measured on this machine, Hono's node adapter spent ~30% of the
 * host's CPU per call building a web `Request` (headers, an AbortSignal, a ReadableStream) and
 * reading the body through web streams, and ~10% building the `Response`: the hot route skips
 * both, and the two mounts share the code that turns a body into an invocation and a response.
 */
import type { IncomingMessage, ServerResponse } from 'node:http'
import type { Executor } from '@fn/executor'
import { FnError, type FnResponse, httpStatus, RawJson } from '@fn/protocol'
import { getRequestListener } from '@hono/node-server'
import { Hono } from 'hono'
import { bodyLimit } from 'hono/body-limit'
import type { ContentfulStatusCode } from 'hono/utils/http-status'

/** One finished `POST /functions/:name`, for access logs and `fn dev` output. */
export interface HttpInvocation {
  /** The function name from the URL (it may not exist). */
  name: string
  /** The HTTP status answered. */
  status: number
  /** The response body sent; a handler's `output` is a `RawJson` (the text the function wrote). */
  response: FnResponse
}

export interface HttpAppOptions {
  /** Largest request body accepted, in bytes; a larger one is 413 PAYLOAD_TOO_LARGE. Default 6 MiB. */
  maxBodyBytes?: number
  /** Called after every invocation over HTTP (also failed ones). Default: none. */
  onInvoke?: (invocation: HttpInvocation) => void
}

/** 6 MiB, the request body limit when `maxBodyBytes` is not given. */
export const DEFAULT_MAX_BODY_BYTES: number = 6 * 1024 * 1024

const failure = (error: FnError, requestId = ''): FnResponse => ({
  request_id: requestId,
  success: false,
  error: error.toJSON(),
  logs: [],
  duration_ms: 0,
})

const tooLarge = (maxBodyBytes: number, requestId?: string): FnResponse =>
  failure(
    new FnError(
      'PAYLOAD_TOO_LARGE',
      `[fn] the request body is larger than ${maxBodyBytes} bytes; send less, or raise the body limit`,
      { details: { maxBodyBytes } },
    ),
    requestId,
  )

/**
 * The response object as JSON text, serialised once: a handler's output (a `RawJson`) is
 * written as the function wrote it, without a parse and a re-serialisation.
 */
export function responseBody(response: FnResponse): string {
  if (!(response.output instanceof RawJson)) return JSON.stringify(response)
  const { output, ...rest } = response
  const others = JSON.stringify(rest)
  return `{"output":${output.json}${others.length > 2 ? `,${others.slice(1)}` : '}'}`
}

/**
 * `POST /functions/:name` once its body is read, for both mounts: the body's JSON (empty is
 * null) becomes the input; answers the HTTP status and the response object.
 */
async function invokeOverHttp(
  executor: Executor,
  name: string,
  body: string,
  requestId: string | undefined,
  signal: AbortSignal | undefined,
): Promise<{ status: number; response: FnResponse }> {
  let input: unknown = null
  if (body.length > 0 && body.trim()) {
    try {
      input = JSON.parse(body)
    } catch (err) {
      const error = new FnError(
        'INVALID_INPUT',
        `[fn] the request body is not valid JSON (${(err as Error).message}); send a JSON document`,
      )
      return { status: 400, response: failure(error, requestId) }
    }
  }
  const response = await executor.invoke(name, input, {
    rawOutput: true,
    ...(signal ? { signal } : {}),
    ...(requestId ? { requestId } : {}),
  })
  const status = response.success ? 200 : httpStatus(response.error?.code ?? 'FUNCTION_ERROR')
  return { status, response }
}

/**
 * The HTTP API as a Hono app; serve it with `serve({ fetch: app.fetch })` from @hono/node-server
 * (or any fetch-based server).
 */
export function createHttpApp(executor: Executor, options: HttpAppOptions = {}): Hono {
  const maxBodyBytes = options.maxBodyBytes ?? DEFAULT_MAX_BODY_BYTES
  const app = new Hono()
  const answer = (name: string, response: FnResponse, status: number) => {
    options.onInvoke?.({ name, status, response })
    return status
  }

  app.get('/healthz', async (c) => {
    const runtimes = await executor.runtimes()
    return c.json({
      ok: true,
      functions: executor.list().length,
      runtimes: runtimes.map((r) => ({
        name: r.name,
        used: r.used,
        version: r.info?.version ?? null,
        error: r.error ?? null,
      })),
    })
  })

  app.get('/stats', (c) => c.json(executor.stats()))

  app.get('/functions', (c) => {
    const functions = executor
      .list()
      .map(({ name, runtime, protocol, mode, description, status, error }) => ({
        name,
        runtime,
        protocol,
        mode,
        description: description ?? null,
        status,
        ...(error ? { error } : {}),
      }))
    return c.json({ functions, count: functions.length })
  })

  app.get('/functions/:name', (c) => {
    const name = c.req.param('name')
    const detail = executor.get(name)
    if (!detail) {
      const error = new FnError('FUNCTION_NOT_FOUND', `[fn] no function named "${name}"`, {
        details: { name },
      })
      return c.json(failure(error), 404)
    }
    return c.json(detail)
  })

  app.post(
    '/functions/:name',
    bodyLimit({
      maxSize: maxBodyBytes,
      onError: (c) => {
        const body = tooLarge(maxBodyBytes, c.req.header('x-request-id'))
        // The rest of the body is never read: the connection cannot carry another request.
        c.header('Connection', 'close')
        return c.json(body, answer(c.req.param('name') ?? '', body, 413) as ContentfulStatusCode)
      },
    }),
    async (c) => {
      const name = c.req.param('name')
      const { status, response } = await invokeOverHttp(
        executor,
        name,
        await c.req.text(),
        c.req.header('x-request-id'),
        c.req.raw.signal,
      )
      return c.body(
        responseBody(response),
        answer(name, response, status) as ContentfulStatusCode,
        {
          'content-type': 'application/json',
        },
      )
    },
  )

  app.notFound((c) =>
    c.json(
      failure(new FnError('FUNCTION_NOT_FOUND', `[fn] no route ${c.req.method} ${c.req.path}`)),
      404,
    ),
  )
  app.onError((err, c) => {
    const error =
      err instanceof FnError ? err : new FnError('CRASHED', `[fn] internal error: ${err.message}`)
    return c.json(failure(error), httpStatus(error.code) as ContentfulStatusCode)
  })
  return app
}

const PREFIX = '/functions/'

/**
 * The HTTP API as a `node:http` request listener: `http.createServer(createHttpHandler(executor))`.
 * `POST /functions/:name` is served directly (body read from the request stream, the response
 * serialised once and written with its length); every other route goes to `createHttpApp`.
 */
export function createHttpHandler(
  executor: Executor,
  options: HttpAppOptions = {},
): (req: IncomingMessage, res: ServerResponse) => void {
  const maxBodyBytes = options.maxBodyBytes ?? DEFAULT_MAX_BODY_BYTES
  const others = getRequestListener(createHttpApp(executor, options).fetch)
  const send = (res: ServerResponse, name: string, status: number, response: FnResponse) => {
    options.onInvoke?.({ name, status, response })
    const body = responseBody(response)
    res.writeHead(status, {
      'content-type': 'application/json',
      'content-length': Buffer.byteLength(body),
    })
    res.end(body)
  }

  return (req, res) => {
    const url = req.url ?? '/'
    const name = req.method === 'POST' && url.startsWith(PREFIX) ? functionName(url) : undefined
    if (name === undefined) {
      others(req, res)
      return
    }
    const header = req.headers['x-request-id']
    const requestId = typeof header === 'string' ? header : undefined
    const refuse = () => {
      // The rest of the body is never read: the connection cannot carry another request.
      res.shouldKeepAlive = false
      send(res, name, 413, tooLarge(maxBodyBytes, requestId))
      req.resume()
    }
    if (Number(req.headers['content-length']) > maxBodyBytes) {
      refuse()
      return
    }
    const chunks: Buffer[] = []
    let size = 0
    req.on('data', (chunk: Buffer) => {
      if (size < 0) return
      size += chunk.length
      if (size > maxBodyBytes) {
        size = -1
        refuse()
      } else chunks.push(chunk)
    })
    req.on('end', () => {
      if (size < 0) return
      const body = chunks.length === 1 ? chunks[0]!.toString() : Buffer.concat(chunks).toString()
      // A client that goes away before the answer cancels its invocation.
      const controller = new AbortController()
      res.once('close', () => {
        if (!res.writableFinished) controller.abort()
      })
      invokeOverHttp(executor, name, body, requestId, controller.signal).then(
        ({ status, response }) => {
          if (!res.destroyed) send(res, name, status, response)
        },
        (err: unknown) => {
          const error = new FnError('CRASHED', `[fn] internal error: ${(err as Error).message}`)
          if (!res.destroyed) send(res, name, 500, failure(error, requestId))
        },
      )
    })
  }
}

/** The `:name` of `/functions/:name[?query]`, or undefined for any other path. */
function functionName(url: string): string | undefined {
  const end = url.indexOf('?')
  const raw = url.slice(PREFIX.length, end === -1 ? undefined : end)
  if (!raw || raw.includes('/')) return undefined
  try {
    return raw.includes('%') ? decodeURIComponent(raw) : raw
  } catch {
    return undefined
  }
}
