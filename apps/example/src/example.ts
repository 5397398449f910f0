/**
 * The example project composed from the packages: every function in ./functions, the five
 * runtimes, the HTTP API of DESIGN.md on a Node HTTP server.
 */
import { createServer } from 'node:http'
import type { AddressInfo } from 'node:net'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { createHttpHandler } from '@fn/cli'
import { createExecutor, type Executor, type ExecutorEvent } from '@fn/executor'
import { bun } from '@fn/runtime-bun'
import { deno } from '@fn/runtime-deno'
import { go } from '@fn/runtime-go'
import { node } from '@fn/runtime-node'
import { python } from '@fn/runtime-python'

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
  const server = createServer(
    createHttpHandler(executor, {
      ...(options.maxBodyBytes ? { maxBodyBytes: options.maxBodyBytes } : {}),
    }),
  )
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject)
    server.listen(options.port ?? 8787, host, () => resolve())
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
