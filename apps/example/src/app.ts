/**
 * The HTTP API of DESIGN.md over an executor, as a Hono app: the same routes, status codes and
 * bodies whether it runs in the example server, `fn serve` or `fn dev`.
 */
import type { Executor } from '@fn/executor'
import { FnError, httpStatus } from '@fn/protocol'
import { Hono } from 'hono'
import { bodyLimit } from 'hono/body-limit'
import type { ContentfulStatusCode } from 'hono/utils/http-status'

export interface AppOptions {
  /** Largest request body accepted, in bytes. Default 6 MiB. */
  maxBodyBytes?: number
}

const failure = (error: FnError, requestId = '') => ({
  request_id: requestId,
  success: false,
  error: error.toJSON(),
  logs: [],
  duration_ms: 0,
})

export function createApp(executor: Executor, options: AppOptions = {}): Hono {
  const maxBodyBytes = options.maxBodyBytes ?? 6 * 1024 * 1024
  const app = new Hono()

  app.get('/healthz', async (c) => {
    const runtimes = await executor.runtimes()
    return c.json({
      ok: true,
      functions: executor.list().length,
      runtimes: runtimes.map((r) => ({ name: r.name, version: r.info?.version ?? null, error: r.error ?? null })),
    })
  })

  app.get('/stats', (c) => c.json(executor.stats()))

  app.get('/functions', (c) => {
    const functions = executor.list().map(({ name, runtime, protocol, mode, description, status, error }) => ({
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
      const error = new FnError('FUNCTION_NOT_FOUND', `[fn] no function named "${name}"`)
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
          `[fn] the request body is larger than ${maxBodyBytes} bytes; send less, or raise maxBodyBytes`,
        )
        return c.json(failure(error), 413)
      },
    }),
    async (c) => {
      const name = c.req.param('name')
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
          return c.json(failure(error), 400)
        }
      }
      const controller = new AbortController()
      c.req.raw.signal?.addEventListener('abort', () => controller.abort(), { once: true })
      const requestId = c.req.header('x-request-id')
      const response = await executor.invoke(name, input, {
        signal: controller.signal,
        ...(requestId ? { requestId } : {}),
      })
      const status = response.success ? 200 : httpStatus(response.error?.code ?? 'FUNCTION_ERROR')
      return c.json(response, status as ContentfulStatusCode)
    },
  )

  app.notFound((c) =>
    c.json(failure(new FnError('FUNCTION_NOT_FOUND', `[fn] no route ${c.req.method} ${c.req.path}`)), 404),
  )
  app.onError((err, c) => {
    const error = err instanceof FnError ? err : new FnError('CRASHED', `[fn] internal error: ${err.message}`)
    return c.json(failure(error), httpStatus(error.code) as ContentfulStatusCode)
  })
  return app
}
