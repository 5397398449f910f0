#!/usr/bin/env node
// fn over HTTP: `fn serve` as a real subprocess next to the floor of its architecture
// (fixtures/http-floor.mjs: bare node:http + persistent raw NDJSON children), same run, same
// machine, every measure reported as fn / floor.
//   node bench/http.mjs                 (python, node, go; ~2.5 minutes on 2 cores)
//   node bench/http.mjs python go       (some)
// Writes bench/results/<date>-http.json and <date>-http.md and prints the markdown.
// Needs wrk on PATH and a built packages/cli (pnpm build).
import { spawn } from 'node:child_process'
import { existsSync, readdirSync, readFileSync } from 'node:fs'
import { cp, mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises'
import { Agent, request } from 'node:http'
import { loadavg, tmpdir } from 'node:os'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { go } from '@fn/runtime-go'
import { node } from '@fn/runtime-node'
import { python } from '@fn/runtime-python'
import { HANDLERS } from './handlers.mjs'
import { machine } from './machine.mjs'

const here = dirname(fileURLToPath(import.meta.url))
const fixtures = join(here, 'fixtures')
const CLI = join(here, '..', 'packages', 'cli', 'dist', 'cli.mjs')
const FLOOR = join(fixtures, 'http-floor.mjs')
const POST_LUA = join(fixtures, 'post.lua')
const HOST = '127.0.0.1'
const N = {
  warmup: Number(process.env.BENCH_HTTP_WARMUP ?? 300),
  seq: Number(process.env.BENCH_HTTP_SEQ ?? 2000),
  big: Number(process.env.BENCH_HTTP_BIG ?? 20),
  wrkSeconds: Number(process.env.BENCH_HTTP_WRK_SECONDS ?? 5),
  cold: Number(process.env.BENCH_HTTP_COLD ?? 3),
  workers: 2, // floor children and fn pool size: one per core
}
const CONNECTIONS = [32, 64]
const SMALL = JSON.stringify({ n: 1, text: 'hello' })
const BIG_BYTES = 1024 * 1024
const BIG = JSON.stringify({ blob: 'x'.repeat(BIG_BYTES) })
// Hard bounds, so a hung server can never hang the bench.
const START_TIMEOUT_MS = 60_000
const REQUEST_TIMEOUT_MS = 15_000
const LOOP_BUDGET_MS = 60_000
const WHOLE_RUN_MS = 10 * 60_000

// ---------------------------------------------------------------- processes we started
// Every server and wrk runs in its own process group (detached) so it can be killed as one.
// fn's workers are detached too (their own groups), so stopping also sweeps the process tree
// recorded from /proc just before the kill, checking start times so a recycled pid is spared.
const live = new Set()

function launch(command, args, options = {}) {
  const proc = spawn(command, args, {
    detached: true,
    stdio: ['ignore', 'pipe', 'pipe'],
    ...options,
  })
  live.add(proc)
  // 'close' once its pipes are done; a spawn that fails (ENOENT) only emits 'error'.
  proc.exited = new Promise((resolve) => {
    proc.once('close', resolve)
    proc.once('error', () => resolve(null))
  })
  proc.once('close', () => live.delete(proc))
  proc.once('error', () => live.delete(proc))
  return proc
}

function procTable() {
  const rows = new Map()
  for (const d of readdirSync('/proc')) {
    if (!/^\d+$/.test(d)) continue
    try {
      const stat = readFileSync(`/proc/${d}/stat`, 'utf8')
      const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ') // fields 3.. of proc(5)
      rows.set(Number(d), { ppid: Number(f[1]), start: f[19], zombie: f[0] === 'Z' })
    } catch {
      // gone meanwhile
    }
  }
  return rows
}

function descendants(pid) {
  const table = procTable()
  const out = []
  const stack = [pid]
  while (stack.length) {
    const parent = stack.pop()
    for (const [child, row] of table) {
      if (row.ppid === parent) {
        // A zombie (exited, not yet reaped) reports no CPU and cannot be killed: skip it.
        if (!row.zombie) out.push({ pid: child, start: row.start })
        stack.push(child)
      }
    }
  }
  return out
}

function killExact({ pid, start }) {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8')
    if (stat.slice(stat.lastIndexOf(')') + 2).split(' ')[19] === start) process.kill(pid, 'SIGKILL')
  } catch {
    // already gone
  }
}

// utime + stime from /proc/<pid>/stat, in clock ticks (100 per second on Linux).
const CLK_TCK = 100
function cpuTicks(pid) {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8')
    const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ')
    return Number(f[11]) + Number(f[12])
  } catch {
    return 0
  }
}
/** CPU used so far by a server process and by each process under it (keyed by pid + start). */
function cpuOf(pid) {
  const workers = new Map(descendants(pid).map((p) => [`${p.pid}@${p.start}`, cpuTicks(p.pid)]))
  return { host: cpuTicks(pid), workers }
}

/** CPU between two cpuOf samples; a worker that started in between counts from zero. */
function cpuDelta(before, after) {
  let workers = 0
  for (const [key, ticks] of after.workers) workers += ticks - (before.workers.get(key) ?? 0)
  return { host: after.host - before.host, workers }
}

/**
 * CPU of a server in the steady middle of a wrk run (from 0.5 s to 0.5 s before its end), so
 * neither the ramp-up nor the hang-up at the end (which can take workers down) is in it.
 */
async function cpuWindow(pid, seconds) {
  const sleep = (ms) => new Promise((r) => setTimeout(r, ms))
  await sleep(500)
  const t = performance.now()
  const before = cpuOf(pid)
  await sleep(Math.max(500, (seconds - 1) * 1000))
  return { ...cpuDelta(before, cpuOf(pid)), seconds: (performance.now() - t) / 1000 }
}

const killGroup = (pid, signal) => {
  try {
    process.kill(-pid, signal)
  } catch {
    // already gone
  }
}

/** SIGTERM (fn serve then stops its workers itself), SIGKILL after 3 s, then sweep the tree. */
async function stop(proc) {
  if (!proc || proc.exitCode !== null || proc.signalCode !== null) return
  const tree = descendants(proc.pid)
  killGroup(proc.pid, 'SIGTERM')
  const timer = new Promise((r) => setTimeout(r, 3000))
  await Promise.race([proc.exited, timer])
  killGroup(proc.pid, 'SIGKILL')
  for (const p of tree) killExact(p)
  await Promise.race([proc.exited, new Promise((r) => setTimeout(r, 1000))])
}

async function stopAll() {
  await Promise.all([...live].map(stop))
}

// Last resort on any exit path (an uncaught error, the watchdog): synchronous kills.
process.on('exit', () => {
  for (const proc of live) {
    const tree = descendants(proc.pid)
    killGroup(proc.pid, 'SIGKILL')
    for (const p of tree) killExact(p)
  }
})
for (const signal of ['SIGINT', 'SIGTERM']) {
  process.once(signal, () => {
    process.stderr.write(`bench-http: ${signal}, stopping everything\n`)
    stopAll().finally(() => process.exit(130))
  })
}
setTimeout(() => {
  process.stderr.write('bench-http: whole-run time bound reached, giving up\n')
  process.exit(1)
}, WHOLE_RUN_MS).unref()

// ---------------------------------------------------------------- a server under test
/**
 * Spawns a server that prints NDJSON on stdout, one line being {"type":"listening",...};
 * resolves with its port and the time from spawn to that line.
 */
function startServer(command, args) {
  const t0 = performance.now()
  const epoch = Date.now() // fn's events carry wall-clock times
  const proc = launch(command, args)
  const events = []
  let stderr = ''
  proc.stderr.setEncoding('utf8')
  proc.stderr.on('data', (d) => {
    stderr = (stderr + d).slice(-4000)
  })
  return new Promise((resolve, reject) => {
    let buf = ''
    let listening = false
    const fail = (why) => {
      clearTimeout(timer)
      stop(proc)
      reject(
        new Error(`${why}${stderr ? `: ${stderr.trim().split('\n').slice(-3).join(' | ')}` : ''}`),
      )
    }
    const timer = setTimeout(() => fail('no listening line in time'), START_TIMEOUT_MS)
    proc.once('error', (err) => fail(`spawn failed (${err.message})`))
    proc.once('close', (code) => {
      if (!listening) fail(`exited with ${code} before listening`)
    })
    proc.stdout.setEncoding('utf8')
    proc.stdout.on('data', (d) => {
      // After the listening line stdout is only drained: fn serve --json writes one line per
      // invocation, and parsing those here would take CPU from the servers under test.
      if (listening) return
      buf += d
      for (let nl = buf.indexOf('\n'); nl !== -1; nl = buf.indexOf('\n')) {
        const line = buf.slice(0, nl)
        buf = buf.slice(nl + 1)
        let event
        try {
          event = JSON.parse(line)
        } catch {
          continue
        }
        events.push(event)
        if (event.type === 'listening') {
          listening = true
          clearTimeout(timer)
          resolve({ proc, port: event.port, listenMs: performance.now() - t0, t0, epoch, events })
          return
        }
      }
    })
  })
}

/** One POST; resolves with the status and the body text. Bounded by REQUEST_TIMEOUT_MS. */
function post(port, path, body, agent) {
  return new Promise((resolve, reject) => {
    const req = request(
      {
        host: HOST,
        port,
        path,
        method: 'POST',
        agent,
        headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) },
      },
      (res) => {
        const chunks = []
        res.on('data', (c) => chunks.push(c))
        res.on('end', () =>
          resolve({ status: res.statusCode, text: Buffer.concat(chunks).toString() }),
        )
        res.on('error', reject)
      },
    )
    req.setTimeout(REQUEST_TIMEOUT_MS, () => req.destroy(new Error('request timed out')))
    req.on('error', reject)
    req.end(body)
  })
}

/** Throws unless the answer is a successful echo (checked outside the timed part). */
function checkEcho(res, expect) {
  if (res.status !== 200) throw new Error(`HTTP ${res.status}: ${res.text.slice(0, 200)}`)
  const body = JSON.parse(res.text)
  if (body.success !== true || !expect(body.output)) {
    throw new Error(`not an echo: ${res.text.slice(0, 200)}`)
  }
}
const isSmall = (o) => o?.text === 'hello'
const isBig = (o) => o?.blob?.length === BIG_BYTES

/** Spawn to first successful answer: POSTs from the listening line on, 2 ms apart. */
async function coldStart(startFn, path) {
  const server = await startFn()
  const agent = new Agent({ keepAlive: true, maxSockets: 1 })
  try {
    for (;;) {
      try {
        const res = await post(server.port, path, SMALL, agent)
        checkEcho(res, isSmall)
        const answerMs = performance.now() - server.t0
        // What the server reported before listening, in ms since spawn (fn: ready per function).
        const timeline = server.events.map((e) => ({
          type: e.type,
          ...(e.name ? { name: e.name } : {}),
          ms: e.time ? Date.parse(e.time) - server.epoch : null,
        }))
        return { server, listenMs: server.listenMs, answerMs, timeline }
      } catch (err) {
        const dead = server.proc.exitCode !== null || server.proc.signalCode !== null
        if (dead || performance.now() - server.t0 > START_TIMEOUT_MS) {
          await stop(server.proc)
          throw new Error(
            `${dead ? 'server exited' : `no successful answer within ${START_TIMEOUT_MS} ms`}: ${err.message}`,
          )
        }
        await new Promise((r) => setTimeout(r, 2))
      }
    }
  } finally {
    agent.destroy()
  }
}

// ---------------------------------------------------------------- measuring helpers
const quantile = (xs, q) => {
  const s = [...xs].sort((a, b) => a - b)
  return s[Math.min(s.length - 1, Math.floor(q * s.length))]
}

/** Sequential calls over one keep-alive socket; bounded by count and by LOOP_BUDGET_MS. */
async function sequential(port, path, body, expect, warmup, n) {
  const agent = new Agent({ keepAlive: true, maxSockets: 1 })
  const times = []
  const t0 = performance.now()
  try {
    for (let i = 0; i < warmup + n && performance.now() - t0 < LOOP_BUDGET_MS; i++) {
      const t = performance.now()
      const res = await post(port, path, body, agent)
      const dt = performance.now() - t
      checkEcho(res, expect)
      if (i >= warmup) times.push(dt)
    }
  } finally {
    agent.destroy()
  }
  if (!times.length) throw new Error('no measured sample within the time budget')
  return { p50: quantile(times, 0.5), p99: quantile(times, 0.99), samples: times.length }
}

/**
 * Warm-up that never hangs up on a call in flight (unlike wrk's end): a bounded number of calls
 * from 16 keep-alive sockets, every answer awaited.
 */
async function warmUp(port, path, total = 3000, parallel = 16) {
  const agent = new Agent({ keepAlive: true, maxSockets: parallel })
  const t0 = performance.now()
  let next = 0
  try {
    await Promise.all(
      Array.from({ length: parallel }, async () => {
        while (next < total && performance.now() - t0 < LOOP_BUDGET_MS) {
          next++
          checkEcho(await post(port, path, SMALL, agent), isSmall)
        }
      }),
    )
  } finally {
    agent.destroy()
  }
}

/** wrk's "2.56ms" / "834.00us" / "1.02s" in ms. */
function wrkMs(text) {
  const m = /^([\d.]+)(us|ms|s|m)$/.exec(text)
  if (!m) return null
  return Number(m[1]) * { us: 0.001, ms: 1, s: 1000, m: 60_000 }[m[2]]
}

/** One wrk run, killed if it outlives its duration by 15 s. */
async function runWrk(port, path, connections, seconds) {
  const url = `http://${HOST}:${port}${path}`
  const args = ['-t2', `-c${connections}`, `-d${seconds}s`, '--timeout', '5s', '-s', POST_LUA, url]
  const proc = launch('wrk', args)
  let out = ''
  let err = ''
  proc.stdout.on('data', (d) => {
    out += d
  })
  proc.stderr.on('data', (d) => {
    err += d
  })
  const timer = setTimeout(() => killGroup(proc.pid, 'SIGKILL'), (seconds + 15) * 1000)
  const code = await proc.exited
  clearTimeout(timer)
  const rps = /Requests\/sec:\s+([\d.]+)/.exec(out)
  if (code !== 0 || !rps)
    throw new Error(`wrk failed (${code}): ${(err || out).trim().slice(0, 300)}`)
  const lat = /Latency\s+(\S+)\s+(\S+)\s+(\S+)/.exec(out)
  const summary = /WRK_JSON (\{.*\})/.exec(out)
  const s = summary ? JSON.parse(summary[1]) : {}
  if (s.requests === 0) throw new Error(`wrk got no answer in ${seconds} s`)
  const errors = (s.connect ?? 0) + (s.read ?? 0) + (s.write ?? 0) + (s.timeout ?? 0)
  return {
    rps: Number(rps[1]),
    requests: s.requests,
    latencyAvgMs: lat ? wrkMs(lat[1]) : null,
    latencyMaxMs: lat ? wrkMs(lat[3]) : null,
    p50Ms: s.p50_us !== undefined ? s.p50_us / 1000 : null,
    p99Ms: s.p99_us !== undefined ? s.p99_us / 1000 : null,
    non2xx: s.non2xx ?? null,
    socketErrors: errors,
  }
}

/** Runs one measure; a failure is recorded as { error } and the others go on. */
async function section(label, fn) {
  try {
    return await fn()
  } catch (err) {
    process.stderr.write(`bench-http: ${label} failed: ${err?.stack ?? err}\n`)
    return { error: String(err?.message ?? err).split('\n')[0] }
  }
}

/**
 * Every measure on one kind of server: N.cold spawns to a first answer (the last server stays
 * up), then on it a warm-up, sequential latency, wrk at 32 and 64 connections, 1 MiB echo.
 */
async function benchServer(label, startFn, path) {
  const out = {}
  let server
  const colds = []
  out.cold = await section(`${label} cold start`, async () => {
    for (let i = 0; i < N.cold; i++) {
      const c = await coldStart(startFn, path)
      colds.push({ listenMs: c.listenMs, answerMs: c.answerMs, timeline: c.timeline })
      if (i < N.cold - 1) await stop(c.server.proc)
      else server = c.server
    }
    // Sample 0 is a first start (fn: empty build cache); the rest are restarts.
    const restarts = colds.length > 1 ? colds.slice(1) : colds
    return {
      first: colds[0],
      restartListenMs: quantile(
        restarts.map((c) => c.listenMs),
        0.5,
      ),
      restartAnswerMs: quantile(
        restarts.map((c) => c.answerMs),
        0.5,
      ),
      samples: colds,
    }
  })
  if (!server) {
    const error = out.cold.error ?? 'server did not start'
    for (const k of ['seq', 'big', ...CONNECTIONS.map((c) => `wrk${c}`)]) out[k] = { error }
    return out
  }
  // Once a server stops answering, the measures after it are skipped rather than each waiting
  // out its request timeouts (that would also break the wall-time budget).
  let wedged
  const measure = (what, fn) => (wedged ? { error: wedged } : section(`${label} ${what}`, fn))
  const check = async (what, when = '') => {
    const res = await section(`${label} ${what}`, () => warmUp(server.port, path))
    if (res?.error) wedged = `stopped answering${when} (${res.error})`
  }
  try {
    // Let V8 optimise the server's hot path before anything is timed (thousands of calls).
    await check('warm-up')
    out.seq = await measure('sequential', () =>
      sequential(server.port, path, SMALL, isSmall, N.warmup, N.seq),
    )
    for (const c of CONNECTIONS) {
      out[`wrk${c}`] = await measure(`wrk -c${c}`, async () => {
        // CPU per request splits the gap: the HTTP host process vs the function processes.
        const workersBefore = cpuOf(server.proc.pid).workers
        const [w, cpu] = await Promise.all([
          runWrk(server.port, path, c, N.wrkSeconds),
          cpuWindow(server.proc.pid, N.wrkSeconds),
        ])
        const perReq = (ticks) => (ticks * 1e6) / CLK_TCK / (w.rps * cpu.seconds)
        return {
          ...w,
          hostCpuUsPerReq: perReq(cpu.host),
          workersCpuUsPerReq: perReq(cpu.workers),
          workersBefore,
        }
      })
      // wrk ends by hanging up on every connection with calls in flight, which fn cancels. That
      // path has killed workers (re-warm the fresh ones) and, in one build, held them until the
      // call deadline (the server stopped answering): check it still answers, warm, count.
      if (!wedged) await check('re-warm', ` after wrk -c${c} hung up`)
      const run = out[`wrk${c}`]
      if (run.workersBefore) {
        const now = cpuOf(server.proc.pid).workers
        run.workersReplaced = [...run.workersBefore.keys()].filter((k) => !now.has(k)).length
        delete run.workersBefore
      }
    }
    out.big = await measure('1 MiB', () => sequential(server.port, path, BIG, isBig, 3, N.big))
  } finally {
    await stop(server.proc)
  }
  return out
}

// ---------------------------------------------------------------- the runtimes
const RUNTIMES = {
  python: {
    adapter: python,
    entry: 'main.py',
    raw: (bin) => [bin, join(fixtures, 'raw', 'echo.py')],
  },
  node: {
    adapter: node,
    entry: 'index.mjs',
    raw: (bin) => [bin, join(fixtures, 'raw', 'echo.mjs')],
  },
  go: { adapter: go, entry: 'main.go' },
}

async function writeFunction(dir, files, yaml) {
  await mkdir(dir, { recursive: true })
  for (const [file, content] of Object.entries(files)) await writeFile(join(dir, file), content)
  await writeFile(join(dir, 'fn.yaml'), yaml)
}

/** The Go floor child, built once outside any timing (the floor has no build step). */
async function buildRawGo(goBin, root) {
  const dir = join(root, 'raw-go')
  await cp(join(fixtures, 'raw-go'), dir, { recursive: true })
  const proc = launch(goBin, ['build', '-o', 'raw', '.'], { cwd: dir })
  let err = ''
  proc.stdout.resume()
  proc.stderr.on('data', (d) => {
    err += d
  })
  const timer = setTimeout(() => killGroup(proc.pid, 'SIGKILL'), 180_000)
  const code = await proc.exited
  clearTimeout(timer)
  if (code !== 0) throw new Error(`go build of the raw child failed (${code}): ${err.trim()}`)
  return join(dir, 'raw')
}

async function benchRuntime(name, root) {
  const rt = RUNTIMES[name]
  const info = await rt.adapter().resolve()
  const out = { runtime: name, version: info.version }
  const raw = name === 'go' ? [await buildRawGo(info.bin, root)] : rt.raw(info.bin)
  const fnsDir = join(root, name, 'functions')
  await writeFunction(
    join(fnsDir, 'echo'),
    HANDLERS[name](rt.entry),
    `runtime: ${name}\npool: { min: ${N.workers}, max: ${N.workers} }\n`,
  )
  const path = '/functions/echo'
  process.stderr.write(`bench-http: ${name} floor...\n`)
  out.floor = await benchServer(
    `${name} floor`,
    () =>
      startServer(process.execPath, [
        FLOOR,
        '--children',
        String(N.workers),
        '--host',
        HOST,
        '--port',
        '0',
        `echo=${raw.join(',')}`,
      ]),
    path,
  )
  process.stderr.write(`bench-http: ${name} fn serve...\n`)
  out.fn = await benchServer(`${name} fn`, () => startFnServe(fnsDir), path)
  return out
}

/** `fn serve --json` on a free loopback port over `fnsDir`. */
function startFnServe(fnsDir) {
  return startServer(process.execPath, [
    CLI,
    'serve',
    '--dir',
    fnsDir,
    '--host',
    HOST,
    '--port',
    '0',
    '--json',
  ])
}

// ---------------------------------------------------------------- pool.concurrency
// An async handler awaiting 5 ms on ONE worker: with concurrency 1 it cannot beat 200 req/s,
// with 8 calls in flight per worker it could reach 1600.
const SLEEP_MS = 5
const ASYNC_HANDLERS = {
  node: {
    'index.mjs': `export default async (input) => {\n  await new Promise((r) => setTimeout(r, ${SLEEP_MS}))\n  return input\n}\n`,
  },
  python: {
    'main.py': `import asyncio\n\n\nasync def handler(input, ctx):\n    await asyncio.sleep(${SLEEP_MS / 1000})\n    return input\n`,
  },
}
const POOL_CONCURRENCY = [1, 8]

async function benchConcurrency(names, root, workers) {
  const fnsDir = join(root, 'concurrency', 'functions')
  const cases = []
  const add = async (c) => {
    await writeFunction(
      join(fnsDir, c.fn),
      c.files,
      `runtime: ${c.runtime}\npool: { min: ${c.workers}, max: ${c.workers}, concurrency: ${c.concurrency} }\n`,
    )
    cases.push(c)
  }
  for (const name of names) {
    if (name in ASYNC_HANDLERS) {
      for (const c of POOL_CONCURRENCY) {
        await add({
          kind: 'async',
          runtime: name,
          concurrency: c,
          workers: 1,
          fn: `${name}-async-c${c}`,
          files: ASYNC_HANDLERS[name],
        })
      }
    }
    // The plain echo again with calls pipelined to each worker, as the floor does.
    const entry = RUNTIMES[name].entry
    await add({
      kind: 'echo',
      runtime: name,
      concurrency: 8,
      workers,
      fn: `${name}-echo-c8`,
      files: HANDLERS[name](entry),
    })
  }
  const results = cases.map(({ kind, runtime, concurrency, workers: w }) => ({
    kind,
    runtime,
    concurrency,
    workers: w,
  }))
  let server
  try {
    server = await startFnServe(fnsDir)
  } catch (err) {
    for (const r of results) r.error = `fn serve did not start: ${err.message}`
    return results
  }
  try {
    for (const [i, c] of cases.entries()) {
      const path = `/functions/${c.fn}`
      results[i] = {
        ...results[i],
        ...(await section(`concurrency ${c.fn}`, async () => {
          // fn.yaml may not know pool.concurrency yet: that shows as a problem for its folder.
          const problem = server.events.find(
            (e) => e.type === 'problem' && String(e.dir ?? '').endsWith(`/${c.fn}`),
          )
          const why = problem?.error?.message?.split('\n')[0]
          if (why && /concurrency/i.test(why)) return { unsupported: why }
          if (why) throw new Error(why)
          const probe = await sequential(server.port, path, SMALL, isSmall, 0, 20)
          // The echo is CPU-bound on the host: give V8 the same warm-up as the main section.
          if (c.kind === 'echo') await warmUp(server.port, path)
          const [wrk, cpu] = await Promise.all([
            runWrk(server.port, path, 64, N.wrkSeconds),
            cpuWindow(server.proc.pid, N.wrkSeconds),
          ])
          const hostCpuUsPerReq = (cpu.host * 1e6) / CLK_TCK / (wrk.rps * cpu.seconds)
          return { rps: wrk.rps, wrk, hostCpuUsPerReq, probeP50Ms: probe.p50 }
        })),
      }
    }
  } finally {
    await stop(server.proc)
  }
  return results
}

// ---------------------------------------------------------------- report
const ratio = (a, b) =>
  Number.isFinite(a) && Number.isFinite(b) && b > 0 ? (a / b).toFixed(2) : '—'
const fmt = (x, digits = 2) => (Number.isFinite(x) ? x.toFixed(digits) : '—')

function report(results, concurrency, meta) {
  const rows = []
  rows.push(`# fn HTTP benchmark, ${meta.date}`)
  rows.push('')
  rows.push(
    `Machine: ${meta.cpus} × ${meta.cpuModel}, ${meta.memGiB} GiB, Node ${meta.node}, ${meta.platform}, ${meta.wrk}; load average ${meta.loadAvg} at the start, ${meta.loadAvgEnd} at the end (this run alone keeps it near 2), ${meta.wallSeconds} s.`,
  )
  rows.push(
    `Samples: ${N.cold} spawns per server; ${N.seq} sequential calls on one keep-alive socket after a warm-up of 3000 calls from 16 sockets and ${N.warmup} sequential ones (the same warm-up again after every wrk run); wrk -t2 for ${N.wrkSeconds} s at ${CONNECTIONS.join(' and ')} connections; ${N.big} × 1 MiB. Both servers: ${N.workers} workers per function (floor: raw children, pipelined; fn: \`pool: { min: ${N.workers}, max: ${N.workers} }\`).`,
  )
  rows.push('')
  const cols = [
    ['seq p50', (s) => s.seq?.p50 * 1000, 'µs', 0],
    ['seq p99', (s) => s.seq?.p99 * 1000, 'µs', 0],
    ...CONNECTIONS.flatMap((c) => [
      [`req/s c${c}`, (s) => s[`wrk${c}`]?.rps, '', 0],
      [`wrk p99 c${c}`, (s) => s[`wrk${c}`]?.p99Ms, 'ms', 2],
    ]),
    ['host CPU/req c64', (s) => s.wrk64?.hostCpuUsPerReq, 'µs', 0],
    ['workers CPU/req c64', (s) => s.wrk64?.workersCpuUsPerReq, 'µs', 0],
    ['1 MiB p50', (s) => s.big?.p50, 'ms', 2],
    ['spawn → listening', (s) => s.cold?.restartListenMs, 'ms', 0],
    ['spawn → first answer', (s) => s.cold?.restartAnswerMs, 'ms', 0],
    ['first start → first answer', (s) => s.cold?.first?.answerMs, 'ms', 0],
  ]
  rows.push(`| runtime | server | ${cols.map((c) => c[0]).join(' | ')} |`)
  rows.push(`| --- | --- | ${cols.map(() => '---').join(' | ')} |`)
  const cell = (s, [, get, unit, digits]) => {
    const v = get(s)
    return Number.isFinite(v) ? `${fmt(v, digits)}${unit ? ` ${unit}` : ''}` : 'failed'
  }
  for (const r of results) {
    if (r.error) {
      rows.push(`| ${r.runtime} | failed: ${r.error} |`)
      continue
    }
    rows.push(
      `| ${r.runtime} ${r.version} | floor | ${cols.map((c) => cell(r.floor, c)).join(' | ')} |`,
    )
    rows.push(`|  | fn serve | ${cols.map((c) => cell(r.fn, c)).join(' | ')} |`)
    rows.push(
      `|  | **fn / floor** | ${cols.map(([, get]) => `**${ratio(get(r.fn), get(r.floor))}**`).join(' | ')} |`,
    )
  }
  const failures = results.flatMap((r) =>
    r.error
      ? []
      : ['floor', 'fn'].flatMap((k) =>
          Object.entries(r[k])
            .filter(([, v]) => v?.error)
            .map(([m, v]) => `- ${r.runtime} ${k} ${m}: ${v.error}`),
        ),
  )
  const badAnswers = results.flatMap((r) =>
    r.error
      ? []
      : ['floor', 'fn'].flatMap((k) =>
          CONNECTIONS.filter((c) => r[k][`wrk${c}`]?.non2xx || r[k][`wrk${c}`]?.socketErrors).map(
            (c) =>
              `- ${r.runtime} ${k} c${c}: ${r[k][`wrk${c}`].non2xx} non-2xx answers, ${r[k][`wrk${c}`].socketErrors} socket errors`,
          ),
        ),
  )
  const replaced = results.flatMap((r) =>
    r.error
      ? []
      : ['floor', 'fn'].flatMap((k) => {
          const n = CONNECTIONS.map((c) => r[k][`wrk${c}`]?.workersReplaced ?? 0)
          return n.some((x) => x > 0)
            ? [
                `- ${r.runtime} ${k}: ${n.join(' and ')} worker processes replaced across the wrk runs at c${CONNECTIONS.join(' and c')} (calls in flight when wrk hangs up are cancelled)`,
              ]
            : []
        }),
  )
  if (failures.length || badAnswers.length || replaced.length) {
    rows.push('', ...failures, ...badAnswers, ...replaced)
  }
  rows.push('')
  rows.push(
    'fn / floor: above 1 is fn slower for times, below 1 is fn slower for req/s. Cold start: spawn of the server process to its first successful echo, median of the restarts; "first start" is the first spawn (fn: empty build cache, so Go includes building the worker; the floor\'s Go child is prebuilt outside the timing).',
  )
  const show = (r) =>
    r?.unsupported ? 'unsupported' : r?.error ? `failed: ${r.error}` : fmt(r?.rps, 0)
  const asyncCases = concurrency.filter((c) => c.kind === 'async' || !c.kind)
  if (asyncCases.length) {
    rows.push('')
    rows.push(
      `| pool.concurrency: async handler awaiting ${SLEEP_MS} ms, 1 worker, fn serve, wrk -c64 | concurrency 1 req/s | concurrency 8 req/s | 8 / 1 | ideal (1 / 8) |`,
    )
    rows.push('| --- | --- | --- | --- | --- |')
    for (const name of [...new Set(asyncCases.map((c) => c.runtime))]) {
      const get = (c) => asyncCases.find((x) => x.runtime === name && x.concurrency === c)
      const [one, eight] = [get(1), get(8)]
      rows.push(
        `| ${name} | ${show(one)} | ${show(eight)} | ${ratio(eight?.rps, one?.rps)} | ${1000 / SLEEP_MS} / ${(8 * 1000) / SLEEP_MS} |`,
      )
    }
  }
  const echo = concurrency.filter((c) => c.kind === 'echo')
  if (echo.length) {
    rows.push('')
    rows.push(
      `| the same echo, ${N.workers} workers, wrk -c64: pipelined like the floor? | floor req/s | fn concurrency 1 (above) | fn concurrency 8 | fn c8 / floor | host CPU/req: floor, fn c1, fn c8 |`,
    )
    rows.push('| --- | --- | --- | --- | --- | --- |')
    for (const e of echo) {
      const r = results.find((x) => x.runtime === e.runtime && !x.error)
      const [floor, fn1] = [r?.floor?.wrk64?.rps, r?.fn?.wrk64?.rps]
      const cpu = [r?.floor?.wrk64, r?.fn?.wrk64, e].map((x) => fmt(x?.hostCpuUsPerReq, 0))
      rows.push(
        `| ${e.runtime} | ${fmt(floor, 0)} | ${fmt(fn1, 0)} | ${show(e)} | ${ratio(e.rps, floor)} | ${cpu.join(' / ')} µs |`,
      )
    }
  }
  const why = concurrency.find((c) => c.unsupported)?.unsupported
  if (why) rows.push('', `unsupported: ${why}`)
  return `${rows.join('\n')}\n`
}

async function wrkVersion() {
  const proc = launch('wrk', ['-v'])
  let out = ''
  proc.stdout.on('data', (d) => {
    out += d
  })
  proc.stderr.resume()
  const timer = setTimeout(() => killGroup(proc.pid, 'SIGKILL'), 5000)
  await proc.exited
  clearTimeout(timer)
  return /wrk \S+/.exec(out)?.[0] ?? 'wrk (version unknown)'
}

// ---------------------------------------------------------------- main
if (!existsSync(CLI)) {
  process.stderr.write(`bench-http: ${CLI} is missing; run pnpm build first (fn serve will fail)\n`)
}
// `pnpm bench -- deno` passes its runtimes to run.mjs and here: none of ours means nothing to do.
const asked = process.argv.slice(2).filter((a) => !a.startsWith('-'))
const wanted = asked.filter((a) => a in RUNTIMES)
if (asked.length && !wanted.length) {
  process.stderr.write(
    `bench-http: no HTTP runtime among ${asked.join(' ')} (${Object.keys(RUNTIMES).join(', ')}); skipped\n`,
  )
  process.exit(0)
}
const names = wanted.length ? wanted : Object.keys(RUNTIMES)
const root = await mkdtemp(join(tmpdir(), 'fn-bench-http-'))
const results = []
let concurrency = []
const date = new Date().toISOString().slice(0, 10)
const meta = {
  ...machine(date),
  wrk: await wrkVersion(),
  // Anything else running moves every number: the 1-minute load when the run started.
  loadAvg: Math.round(loadavg()[0] * 100) / 100,
}
const t0 = performance.now()
try {
  for (const name of names) {
    try {
      results.push(await benchRuntime(name, root))
    } catch (err) {
      process.stderr.write(`bench-http: ${name} failed: ${err?.stack ?? err}\n`)
      results.push({ runtime: name, error: String(err?.message ?? err).split('\n')[0] })
    }
  }
  process.stderr.write('bench-http: pool.concurrency...\n')
  concurrency = await section('pool.concurrency', () => benchConcurrency(names, root, N.workers))
  if (!Array.isArray(concurrency)) {
    concurrency = [{ runtime: 'all', concurrency: 1, error: concurrency.error }]
  }
} finally {
  await stopAll()
  await rm(root, { recursive: true, force: true })
}
meta.wallSeconds = Math.round((performance.now() - t0) / 1000)
meta.loadAvgEnd = Math.round(loadavg()[0] * 100) / 100
const md = report(results, concurrency, meta)
await mkdir(join(here, 'results'), { recursive: true })
await writeFile(
  join(here, 'results', `${date}-http.json`),
  `${JSON.stringify({ meta, N, results, concurrency }, null, 2)}\n`,
)
await writeFile(join(here, 'results', `${date}-http.md`), md)
process.stdout.write(md)
