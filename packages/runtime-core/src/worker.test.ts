// The Worker against the real JS shim on the Node running this test: bookkeeping that the
// adapters' conformance suites cannot reach from outside.
import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, expect, it } from 'vitest'
import { JS_HANDLER_SHIM } from './adapter'
import { functionEnv } from './env'
import { Worker } from './worker'

let dir = ''
let worker: Worker
const request = (input: unknown) => ({ request_id: 'r', function: 'f', input, context: {} })

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'fn-worker-'))
  await writeFile(join(dir, 'index.mjs'), 'export default (input) => input\n')
  worker = await Worker.start({
    command: process.execPath,
    args: [JS_HANDLER_SHIM, join(dir, 'index.mjs')],
    env: functionEnv({}),
    cwd: dir,
  })
})
afterAll(async () => {
  await worker?.shutdown()
  await rm(dir, { recursive: true, force: true })
})

it('answers a call whose caller left before it was sent, and keeps no slot for it', async () => {
  const ac = new AbortController()
  ac.abort()
  const out = await worker.invoke(request(1), { timeoutMs: 5000, signal: ac.signal })
  expect(out.error?.code).toBe('CANCELLED')
  expect(worker.load).toBe(0)
  const next = await worker.invoke(request(2), { timeoutMs: 5000 })
  expect(next.output).toBe(2)
})
