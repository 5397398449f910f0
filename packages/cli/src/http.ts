/**
 * The HTTP API of DESIGN.md over an executor, as a Hono app: the same routes, status codes and
 * bodies whether it runs in the example server, `fn serve` or `fn dev`.
 */
import type { Executor } from '@fn/executor'
import { FnError, type FnResponse, httpStatus } from '@fn/protocol'
import { Hono } from 'hono'
import { bodyLimit } from 'hono/body-limit'
import type { ContentfulStatusCode } from 'hono/utils/http-status'

/** One finished `POST /functions/:name`, for access logs and `fn dev` output. */
export interface HttpInvocation {
  /** The function name from the URL (it may not exist). */
  name: string
  /** The HTTP status answered. */
  status: number
  /** The response body sent. */
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
        const error = new FnError(
          'PAYLOAD_TOO_LARGE',
          `[fn] the request body is larger than ${maxBodyBytes} bytes; send less, or raise the body limit`,
          { details: { maxBodyBytes } },
        )
        const body = failure(error, c.req.header('x-request-id'))
        // The rest of the body is never read: the connection cannot carry another request.
        c.header('Connection', 'close')
        return c.json(body, answer(c.req.param('name') ?? '', body, 413) as ContentfulStatusCode)
      },
    }),
    async (c) => {
      const name = c.req.param('name')
      const requestId = c.req.header('x-request-id')
      const text = await c.req.text()
      let input: unknown = null
      if (text.trim()) {
        try {
          input = JSON.parse(text)
        } catch (err) {
          const error = new FnError(
            'INVALID_INPUT',
            `[fn] the request body is not valid JSON (${(err as Error).message}); send a JSON document`,
          )
          const body = failure(error, requestId)
          return c.json(body, answer(name, body, 400) as ContentfulStatusCode)
        }
      }
      const controller = new AbortController()
      c.req.raw.signal?.addEventListener('abort', () => controller.abort(), { once: true })
      const response = await executor.invoke(name, input, {
        signal: controller.signal,
        ...(requestId ? { requestId } : {}),
      })
      const status = response.success ? 200 : httpStatus(response.error?.code ?? 'FUNCTION_ERROR')
      return c.json(response, answer(name, response, status) as ContentfulStatusCode)
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
