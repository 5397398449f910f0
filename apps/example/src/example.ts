/**
 * The example project composed from the packages: every function in ./functions, the five
 * runtimes, the HTTP API of DESIGN.md on a Node HTTP server.
 */
import type { AddressInfo } from 'node:net'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { createHttpApp } from '@fn/cli'
import { createExecutor, type Executor, type ExecutorEvent } from '@fn/executor'
import { bun } from '@fn/runtime-bun'
import { deno } from '@fn/runtime-deno'
import { go } from '@fn/runtime-go'
import { node } from '@fn/runtime-node'
import { python } from '@fn/runtime-python'
import { serve } from '@hono/node-server'

/** The example app's folder (holds functions/). */
export const EXAMPLE_ROOT: string = join(dirname(fileURLToPath(import.meta.url)), '..')

export interface ExampleServer {
  url: string
  executor: Executor
  close(): Promise<void>
}

export interface ExampleOptions {
  port?: number
  host?: string
  /** Largest request body, bytes. Default 6 MiB. */
  maxBodyBytes?: number
  onEvent?: (event: ExecutorEvent) => void
}

export async function startExample(options: ExampleOptions = {}): Promise<ExampleServer> {
  const host = options.host ?? '127.0.0.1'
  const executor = createExecutor({
    dir: join(EXAMPLE_ROOT, 'functions'),
    runtimes: [node(), deno(), bun(), python(), go()],
    ...(options.onEvent ? { onEvent: options.onEvent } : {}),
  })
  await executor.start()
  const app = createHttpApp(executor, {
    ...(options.maxBodyBytes ? { maxBodyBytes: options.maxBodyBytes } : {}),
  })
  const server = await new Promise<ReturnType<typeof serve>>((resolve) => {
    const s = serve({ fetch: app.fetch, port: options.port ?? 8787, hostname: host }, () =>
      resolve(s),
    )
  })
  const { port } = server.address() as AddressInfo
  return {
    url: `http://${host}:${port}`,
    executor,
    async close() {
      await new Promise((resolve) => server.close(resolve))
      await executor.close()
    },
  }
}
