/**
 * The example server: every function in ./functions, five runtimes, the HTTP API of DESIGN.md.
 *   pnpm start            (from the repository root)
 *   FN_PORT=9000 pnpm start
 */
import { startExample } from './example'

const server = await startExample({
  port: Number(process.env['FN_PORT'] ?? 8787),
  host: process.env['FN_HOST'] ?? '127.0.0.1',
  onEvent: (e) => {
    if (e.type === 'problem') console.error(`[fn] problem in ${e.dir}: ${e.error.message}`)
    if (e.type === 'unavailable') console.error(`[fn] ${e.name} unavailable: ${e.error.message}`)
    if (e.type === 'stray') process.stderr.write(`[${e.name}] ${e.text}`)
  },
})

console.log(`fn example server on ${server.url}`)
for (const f of server.executor.list()) {
  const mark = f.status === 'ready' ? '✓' : '✗'
  console.log(`  ${mark} ${f.name.padEnd(14)} ${f.runtime.padEnd(7)} ${f.protocol}/${f.mode}`)
}
console.log(`try: curl -s -XPOST ${server.url}/functions/hello -d '{"name":"fn"}'`)

const stop = async () => {
  await server.close()
  process.exit(0)
}
process.on('SIGINT', stop)
process.on('SIGTERM', stop)
