// fn bootstrap for JavaScript and TypeScript handlers on Node, Deno and Bun.
//
//   <runtime> handler.mjs <entry>
//
// Frames (NDJSON, see @fn/protocol) travel on fd 3, a socket the host created; user code never
// writes there by accident. console.* calls become log frames of the invocation they belong to;
// anything else written to fd 1 or 2 is captured by the host, and after every invocation the end
// marker on both streams tells the host that invocation's output is complete.
import { AsyncLocalStorage } from 'node:async_hooks'
import fs from 'node:fs'
import net from 'node:net'
import process from 'node:process'
import { StringDecoder } from 'node:string_decoder'
import { pathToFileURL } from 'node:url'
import { format } from 'node:util'

const V = 1
const entry = process.argv[process.argv.length - 1]
const realConsole = { ...console }
const scope = new AsyncLocalStorage()

// --- the channel -----------------------------------------------------------------------------
// Node and Deno speak to an inherited socket through net.Socket; Bun's net.Socket cannot adopt
// an fd, but its fs calls can.
let send
let onData
if (globalThis.Bun) {
  send = (text) => {
    const buf = Buffer.from(text)
    let off = 0
    while (off < buf.length) off += fs.writeSync(3, buf, off)
  }
  onData = (fn) => {
    const rs = fs.createReadStream(null, { fd: 3, autoClose: false, highWaterMark: 1 << 16 })
    rs.on('data', fn)
    rs.on('end', () => process.exit(0))
  }
} else {
  const sock = new net.Socket({ fd: 3, readable: true, writable: true })
  sock.on('error', () => process.exit(1))
  sock.on('end', () => process.exit(0))
  send = (text) => sock.write(text)
  onData = (fn) => sock.on('data', fn)
}
const frame = (f) => send(`${JSON.stringify({ v: V, ...f })}\n`)

// --- logging ---------------------------------------------------------------------------------
function log(id, level, message, data) {
  const f = { type: 'log', id, level, message: String(message), timestamp: new Date().toISOString() }
  if (data !== undefined) {
    try {
      JSON.stringify(data)
      f.data = data
    } catch {
      f.data = format('%o', data)
    }
  }
  frame(f)
}
const levels = { log: 'info', info: 'info', debug: 'debug', warn: 'warn', error: 'error' }
for (const [method, level] of Object.entries(levels)) {
  console[method] = (...args) => {
    const id = scope.getStore()
    if (id === undefined) return realConsole[method](...args)
    log(id, level, format(...args))
  }
}

// --- one invocation --------------------------------------------------------------------------
const MARK = (id) => `\u001efn-end:${id}\u001e\n`
const codeOf = (err) =>
  err && typeof err.code === 'string' && /^[A-Z][A-Z0-9_]*$/.test(err.code)
    ? err.code
    : 'FUNCTION_ERROR'

function errorBody(err) {
  if (err instanceof Error) {
    return {
      code: codeOf(err),
      message: err.message || err.name,
      details: { name: err.name, stack: err.stack },
    }
  }
  return { code: 'FUNCTION_ERROR', message: typeof err === 'string' ? err : format('%o', err) }
}

function finish(id, result) {
  let text
  try {
    text = JSON.stringify({ v: V, ...result })
  } catch (err) {
    const message = `[fn] the handler returned a value that is not JSON-serialisable: ${err.message}`
    text = JSON.stringify({ v: V, type: 'error', id, error: { code: 'FUNCTION_ERROR', message } })
  }
  // Everything the invocation wrote to fd 1 and 2 precedes these markers.
  fs.writeSync(1, MARK(id))
  fs.writeSync(2, MARK(id))
  send(`${text}\n`)
}

async function invoke(handler, { id, request, deadline }) {
  const ctx = {
    request_id: request.request_id,
    function: request.function,
    auth: request.context?.auth ?? null,
    env: request.context?.env ?? {},
    deadline: deadline ?? null,
    remainingMs: () => (deadline ? Math.max(0, deadline - Date.now()) : Number.POSITIVE_INFINITY),
    log: {
      debug: (m, d) => log(id, 'debug', m, d),
      info: (m, d) => log(id, 'info', m, d),
      warn: (m, d) => log(id, 'warn', m, d),
      error: (m, d) => log(id, 'error', m, d),
    },
  }
  try {
    const output = await scope.run(id, () => handler(request.input, ctx))
    finish(id, { type: 'result', id, output: output === undefined ? null : output })
  } catch (err) {
    finish(id, { type: 'error', id, error: errorBody(err) })
  }
}

// --- start -----------------------------------------------------------------------------------
let handler
try {
  const mod = await import(pathToFileURL(entry).href)
  handler = typeof mod.default === 'function' ? mod.default : mod.handler
  if (typeof handler !== 'function') {
    throw new TypeError(
      `${entry} has no handler: export a function as default (export default async function (input, ctx) {...}) or as "handler"`,
    )
  }
} catch (err) {
  frame({ type: 'error', error: { ...errorBody(err), code: 'BUILD_FAILED' } })
  process.exit(1)
}

const decoder = new StringDecoder('utf8')
let parts = []
let queue = Promise.resolve()
function onLine(line) {
  if (!line.trim()) return
  const msg = JSON.parse(line)
  if (msg.type === 'shutdown') queue.then(() => process.exit(0))
  else if (msg.type === 'invoke') queue = queue.then(() => invoke(handler, msg))
}
onData((chunk) => {
  let text = typeof chunk === 'string' ? chunk : decoder.write(chunk)
  for (let nl = text.indexOf('\n'); nl !== -1; nl = text.indexOf('\n')) {
    parts.push(text.slice(0, nl))
    text = text.slice(nl + 1)
    const line = parts.join('')
    parts = []
    onLine(line)
  }
  if (text) parts.push(text)
})
process.on('uncaughtException', (err) => realConsole.error('[fn] uncaught exception:', err))
process.on('unhandledRejection', (err) => realConsole.error('[fn] unhandled rejection:', err))
frame({ type: 'ready', pid: process.pid, runtime: runtimeName() })

function runtimeName() {
  if (globalThis.Deno) return `deno ${globalThis.Deno.version.deno}`
  if (globalThis.Bun) return `bun ${globalThis.Bun.version}`
  return `node ${process.versions.node}`
}
