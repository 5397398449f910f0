/**
 * The example server: every function in ./functions, five runtimes, the HTTP API of DESIGN.md.
 *   pnpm start            (from the repository root)
 *   FN_PORT=9000 pnpm start
 */
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { createHttpApp } from '@fn/cli'
import { createExecutor } from '@fn/executor'
import { bun } from '@fn/runtime-bun'
import { deno } from '@fn/runtime-deno'
import { go } from '@fn/runtime-go'
import { node } from '@fn/runtime-node'
import { python } from '@fn/runtime-python'
import { serve } from '@hono/node-server'

const here = dirname(fileURLToPath(import.meta.url))
const root = join(here, '..')
const port = Number(process.env['FN_PORT'] ?? 8787)
const host = process.env['FN_HOST'] ?? '127.0.0.1'

const executor = createExecutor({
  dir: join(root, 'functions'),
  runtimes: [node(), deno(), bun(), python(), go()],
  onEvent: (e) => {
    if (e.type === 'problem') console.error(`[fn] problem in ${e.dir}: ${e.error.message}`)
    if (e.type === 'unavailable') console.error(`[fn] ${e.name} unavailable: ${e.error.message}`)
    if (e.type === 'stray') process.stderr.write(`[${e.name}] ${e.text}`)
  },
})

process.chdir(root)
await executor.start()
const server = serve({ fetch: createHttpApp(executor).fetch, port, hostname: host }, (info) => {
  const fns = executor.list()
  console.log(`fn example server on http://${host}:${info.port}`)
  for (const f of fns) {
    console.log(
      `  ${f.status === 'ready' ? '✓' : '✗'} ${f.name.padEnd(14)} ${f.runtime.padEnd(7)} ${f.protocol}/${f.mode}`,
    )
  }
  console.log(`try: curl -s -XPOST http://${host}:${info.port}/functions/hello -d '{"name":"fn"}'`)
})

const stop = async () => {
  server.close()
  await executor.close()
  process.exit(0)
}
process.on('SIGINT', stop)
process.on('SIGTERM', stop)
