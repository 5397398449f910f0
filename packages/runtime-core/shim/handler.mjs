// fn bootstrap for JavaScript and TypeScript handlers on Node, Deno and Bun.
//
//   <runtime> handler.mjs <entry>
//
// Frames (NDJSON, see @fn/protocol) travel on fd 3, a socket the host created; user code never
// writes there by accident. console.* calls become log frames of the invocation they belong to
// (AsyncLocalStorage, so this holds with several calls at once); anything else written to fd 1
// or 2 is captured by the host, which attributes it to the call in progress when the worker runs
// one call at a time: the shim makes sure it is in the pipe before the call's result is sent.
//
// FN_CONCURRENCY=N (set by the host from fn.yaml pool.concurrency) lets N calls run at once; the
// host may then send `cancel` for a call that timed out or lost its caller: ctx.signal aborts, the
// call is answered CANCELLED at once, and nothing more is sent for it.
//
// An error nobody catches (an uncaught exception, an unhandled rejection) ends the worker the way
// the runtime always does: printed to stderr, exit 1. The host reports the invocation in progress
// as CRASHED with that stderr, and replaces the worker.
import { AsyncLocalStorage } from 'node:async_hooks'
import fs from 'node:fs'
import net from 'node:net'
import process from 'node:process'
import { StringDecoder } from 'node:string_decoder'
import { pathToFileURL } from 'node:url'
import { format } from 'node:util'

const V = 1
const entry = process.argv[process.argv.length - 1]
const CONCURRENCY = Math.max(1, Number.parseInt(envVar('FN_CONCURRENCY') ?? '', 10) || 1)
const realConsole = { ...console }
const scope = new AsyncLocalStorage()

// --- the channel -----------------------------------------------------------------------------
// Node and Deno speak to the inherited socket through net.Socket. Bun's net.Socket cannot adopt
// an fd, but its fs calls can. `send(text, done)` calls `done` once the text is handed over.
let send
let onData
if (globalThis.Bun) {
  send = (text, done) => {
    const buf = Buffer.from(text)
    let off = 0
    while (off < buf.length) off += fs.writeSync(3, buf, off)
    done?.()
  }
  // Bun.file(fd).stream() reads the socket with less overhead than fs.createReadStream
  // (about 130 against 210 us per warm call here).
  onData = async (fn) => {
    const reader = globalThis.Bun.file(3).stream().getReader()
    for (;;) {
      const { value, done } = await reader.read()
      if (done) process.exit(0)
      fn(Buffer.from(value.buffer, value.byteOffset, value.byteLength))
    }
  }
} else {
  const sock = new net.Socket({ fd: 3, readable: true, writable: true })
  sock.on('error', () => process.exit(1))
  sock.on('end', () => process.exit(0))
  send = (text, done) => sock.write(text, done)
  onData = (fn) => sock.on('data', fn)
}
const frame = (f, done) => send(`${JSON.stringify({ v: V, ...f })}\n`, done)

// Bun queues large writes to a stdout/stderr pipe out of sight (writableLength stays 0, and an
// empty write calls back at once), so a call's output could reach the pipe after its result.
// There, process.stdout/stderr write synchronously, as Node's do on Linux pipes.
if (globalThis.Bun) {
  const pause = new Int32Array(new SharedArrayBuffer(4))
  for (const [stream, fd] of [
    [process.stdout, 1],
    [process.stderr, 2],
  ]) {
    stream.write = (chunk, encoding, callback) => {
      const cb = typeof encoding === 'function' ? encoding : callback
      const buf =
        typeof chunk === 'string'
          ? Buffer.from(chunk, typeof encoding === 'string' ? encoding : 'utf8')
          : Buffer.from(chunk)
      let off = 0
      while (off < buf.length) {
        try {
          off += fs.writeSync(fd, buf, off)
        } catch (err) {
          if (err.code !== 'EAGAIN') throw err
          Atomics.wait(pause, 0, 0, 1) // the pipe is full: the host reads it soon
        }
      }
      cb?.()
      return true
    }
  }
}

// --- logging ---------------------------------------------------------------------------------
function log(id, level, message, data) {
  if (calls.get(id)?.cancelled) return // answered already: the host keeps nothing more for it
  const f = {
    type: 'log',
    id,
    level,
    message: String(message),
    timestamp: new Date().toISOString(),
  }
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
const CODE = /^[A-Z][A-Z0-9_]*$/
/** Invocations in progress: id -> { controller?, cancelled }. */
const calls = new Map()

// What a thrown value becomes on the wire: its own code and details where it has them.
function errorBody(err) {
  const obj = err !== null && typeof err === 'object' ? err : {}
  const body = {
    code: typeof obj.code === 'string' && CODE.test(obj.code) ? obj.code : 'FUNCTION_ERROR',
    message:
      typeof obj.message === 'string' && obj.message
        ? obj.message
        : typeof err === 'string'
          ? err
          : err instanceof Error
            ? err.name
            : format('%o', err),
  }
  if (obj.details !== undefined) body.details = obj.details
  else if (err instanceof Error) body.details = { name: err.name, stack: err.stack }
  return body
}

// A stream calls back once this write, and so every write before it, has reached its fd.
const flushed = (stream) =>
  stream.writableLength > 0 ? new Promise((resolve) => stream.write('', () => resolve())) : null

async function finish(id, result) {
  let text
  try {
    text = JSON.stringify({ v: V, ...result })
  } catch (err) {
    const message =
      result.type === 'result'
        ? `[fn] the handler returned a value that is not JSON-serialisable: ${err.message}`
        : result.error.message
    text = JSON.stringify({
      v: V,
      type: 'error',
      id,
      error: { code: result.error?.code ?? 'FUNCTION_ERROR', message },
    })
  }
  // What the call wrote through process.stdout/stderr must be in the pipes before its result
  // (writes to a pipe may still be queued in the runtime); usually nothing is queued.
  const out = flushed(process.stdout)
  const err = flushed(process.stderr)
  if (out || err) await Promise.all([out, err])
  const call = calls.get(id)
  calls.delete(id)
  if (!call?.cancelled) send(`${text}\n`)
}

function cancel(id) {
  const call = calls.get(id)
  if (!call || call.cancelled) return
  call.cancelled = true
  call.controller?.abort(new Error(`[fn] invocation ${id} was cancelled by the host`))
  frame({
    type: 'error',
    id,
    error: { code: 'CANCELLED', message: `[fn] invocation ${id} was cancelled by the host` },
  })
}

async function invoke(handler, { id, request, deadline }) {
  const call = { controller: undefined, cancelled: false }
  calls.set(id, call)
  const ctx = {
    request_id: request.request_id,
    function: request.function,
    auth: request.context?.auth ?? null,
    env: request.context?.env ?? {},
    deadline: deadline ?? null,
    remainingMs: () => (deadline ? Math.max(0, deadline - Date.now()) : Number.POSITIVE_INFINITY),
    // Aborts when the host cancels the call (it timed out or its caller went away). Made on first
    // use: most handlers never look.
    get signal() {
      call.controller ??= new AbortController()
      return call.controller.signal
    },
    log: {
      debug: (m, d) => log(id, 'debug', m, d),
      info: (m, d) => log(id, 'info', m, d),
      warn: (m, d) => log(id, 'warn', m, d),
      error: (m, d) => log(id, 'error', m, d),
    },
  }
  let result
  try {
    const output = await scope.run(id, () => handler(request.input, ctx))
    result = { type: 'result', id, output: output === undefined ? null : output }
  } catch (err) {
    result = { type: 'error', id, error: errorBody(err) }
  }
  await finish(id, result)
}

// --- start -----------------------------------------------------------------------------------
let handler
try {
  const mod = await import(pathToFileURL(entry).href)
  // ESM default export, a named `handler`, or CommonJS `module.exports = fn` / `exports.handler`.
  handler = [mod.default, mod.handler, mod.default?.handler].find((h) => typeof h === 'function')
  if (!handler) {
    throw new TypeError(
      `${entry} exports no handler: export a function as default (export default async function (input, ctx) {...}) or as "handler"`,
    )
  }
} catch (err) {
  frame({ type: 'error', error: { ...errorBody(err), code: 'BUILD_FAILED' } }, () =>
    process.exit(1),
  )
}

if (handler) {
  const decoder = new StringDecoder('utf8')
  let parts = [] // the pieces of a line that has not ended yet (a frame may be megabytes)
  const running = new Set()
  const onLine = (line) => {
    if (!line.trim()) return
    const msg = JSON.parse(line)
    if (msg.type === 'invoke') {
      const done = invoke(handler, msg)
      running.add(done)
      done.finally(() => running.delete(done))
    } else if (msg.type === 'cancel') cancel(msg.id)
    else if (msg.type === 'shutdown') Promise.allSettled([...running]).then(() => process.exit(0))
  }
  onData((chunk) => {
    const text = typeof chunk === 'string' ? chunk : decoder.write(chunk)
    let start = 0
    for (let nl = text.indexOf('\n'); nl !== -1; nl = text.indexOf('\n', start)) {
      parts.push(text.slice(start, nl))
      start = nl + 1
      onLine(parts.join(''))
      parts = []
    }
    if (start < text.length) parts.push(text.slice(start))
  })
  frame({ type: 'ready', pid: process.pid, runtime: runtimeName(), concurrency: CONCURRENCY })
}

// Deno without env permission throws on reading a variable it was not granted.
function envVar(name) {
  try {
    return process.env[name]
  } catch {
    return undefined
  }
}

function runtimeName() {
  if (globalThis.Deno) return `deno ${globalThis.Deno.version.deno}`
  if (globalThis.Bun) return `bun ${globalThis.Bun.version}`
  return `node ${process.versions.node}`
}
