#!/usr/bin/env node
// fn benchmarks: every number next to a floor measured in the same run, reported as a ratio.
//   pnpm bench                 (all runtimes; a few minutes on 2 cores)
//   pnpm bench -- node python  (some)
// Writes bench/results/<date>.json and bench/results/<date>.md.
import { spawn } from 'node:child_process'
import { cp, mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { createExecutor } from '@fn/executor'
import { loadFunction } from '@fn/manifest'
import { bun } from '@fn/runtime-bun'
import { createRunner, functionEnv, runProcess } from '@fn/runtime-core'
import { deno } from '@fn/runtime-deno'
import { go } from '@fn/runtime-go'
import { node } from '@fn/runtime-node'
import { python } from '@fn/runtime-python'
import { HANDLERS } from './handlers.mjs'
import { machine } from './machine.mjs'

const here = dirname(fileURLToPath(import.meta.url))
const fixtures = join(here, 'fixtures')
const N = {
  spawn: Number(process.env.BENCH_SPAWN ?? 20),
  seq: Number(process.env.BENCH_SEQ ?? 2000),
  concurrent: Number(process.env.BENCH_CONCURRENT_TOTAL ?? 4000),
  big: Number(process.env.BENCH_BIG ?? 30),
  warmup: Number(process.env.BENCH_WARMUP ?? 3000),
}
const CONCURRENCY = 64
const BIG = { blob: 'x'.repeat(1024 * 1024) }
const SMALL = { n: 1, text: 'hello' }

// ---------------------------------------------------------------- measuring helpers
const quantile = (xs, q) => {
  const s = [...xs].sort((a, b) => a - b)
  return s[Math.min(s.length - 1, Math.floor(q * s.length))]
}
const ms = (x) => Math.round(x * 1000) / 1000

async function timeSeq(n, fn) {
  const times = []
  for (let i = 0; i < n; i++) {
    const t = performance.now()
    await fn(i)
    times.push(performance.now() - t)
  }
  return { p50: quantile(times, 0.5), p99: quantile(times, 0.99) }
}

async function throughput(total, concurrency, fn) {
  let next = 0
  const t = performance.now()
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next < total) await fn(next++)
    }),
  )
  return total / ((performance.now() - t) / 1000)
}

/** A bare spawn of the tiny stdio script: what the seed paid per call. */
async function bareSpawn(command, args, cwd, n) {
  const env = functionEnv({})
  const input = JSON.stringify({ request_id: 'r', function: 'f', input: SMALL, context: {} })
  return timeSeq(n, () => runProcess({ command, args, cwd, env }, { input }))
}

/** A persistent child answering NDJSON over pipes, no fn code: the round-trip floor. */
function rawChild(command, args, cwd) {
  const child = spawn(command, args, {
    cwd,
    env: functionEnv({}),
    stdio: ['pipe', 'pipe', 'inherit'],
  })
  const waiting = new Map()
  let buf = ''
  child.stdout.setEncoding('utf8')
  child.stdout.on('data', (d) => {
    buf += d
    for (let nl = buf.indexOf('\n'); nl !== -1; nl = buf.indexOf('\n')) {
      const line = buf.slice(0, nl)
      buf = buf.slice(nl + 1)
      const msg = JSON.parse(line)
      waiting.get(msg.id)?.(msg)
      waiting.delete(msg.id)
    }
  })
  let id = 0
  return {
    call(input) {
      const my = ++id
      return new Promise((resolve) => {
        waiting.set(my, resolve)
        child.stdin.write(`${JSON.stringify({ id: my, input })}\n`)
      })
    },
    close: () => child.kill('SIGKILL'),
  }
}

// ---------------------------------------------------------------- the runtimes
const RUNTIMES = {
  node: { adapter: () => node(), raw: ['echo.mjs'], spawnScript: 'spawn.mjs', entry: 'index.mjs' },
  deno: {
    adapter: () => deno(),
    raw: ['run', 'echo.mjs'],
    spawnScript: ['run', 'spawn.mjs'],
    entry: 'index.js',
    marker: 'deno.json',
  },
  bun: {
    adapter: () => bun(),
    raw: ['echo.mjs'],
    spawnScript: 'spawn.mjs',
    entry: 'index.js',
    marker: 'bunfig.toml',
  },
  python: { adapter: () => python(), raw: ['echo.py'], spawnScript: 'spawn.py', entry: 'main.py' },
  go: { adapter: () => go(), entry: 'main.go' },
}

async function fnFolder(root, name, files, yaml) {
  const dir = join(root, name)
  await mkdir(dir, { recursive: true })
  for (const [file, content] of Object.entries(files)) await writeFile(join(dir, file), content)
  await writeFile(join(dir, 'fn.yaml'), yaml)
  return loadFunction(dir)
}

async function benchRuntime(name, root) {
  const rt = RUNTIMES[name]
  const adapter = rt.adapter()
  const info = await adapter.resolve()
  const out = { runtime: name, version: info.version, bin: info.bin }
  const cacheDir = join(root, '.cache', name)
  const runnerOpts = { cacheDir, maxQueue: 10_000 }
  const request = (input, i = 0) => ({ request_id: `r${i}`, function: name, input, context: {} })
  const extra = rt.marker ? { [rt.marker]: rt.marker.endsWith('.json') ? '{}' : '' } : {}

  // Functions under test.
  const stdioFiles =
    name === 'go'
      ? {
          'main.go': await readFixture('spawn-go/main.go'),
          'go.mod': 'module fnbench/stdio\n\ngo 1.21\n',
        }
      : {
          [rt.entry]: await readFixture(
            `raw/${Array.isArray(rt.spawnScript) ? rt.spawnScript[1] : rt.spawnScript}`,
          ),
        }
  const stdioFn = await fnFolder(
    root,
    `${name}-stdio`,
    { ...stdioFiles, ...extra },
    `runtime: ${name}\nprotocol: stdio\n`,
  )
  const handlerFiles = { ...HANDLERS[name](rt.entry), ...extra }
  const warmFn = await fnFolder(
    root,
    `${name}-warm`,
    handlerFiles,
    `runtime: ${name}\npool: { min: 2, max: 2 }\n`,
  )

  // Floors.
  const rawDir = name === 'go' ? join(root, 'raw-go') : join(fixtures, 'raw')
  let rawCmd
  let spawnCmd
  if (name === 'go') {
    await cp(join(fixtures, 'raw-go'), join(root, 'raw-go'), { recursive: true })
    await cp(join(fixtures, 'spawn-go'), join(root, 'spawn-go'), { recursive: true })
    const goEnv = { ...process.env }
    await runProcess({
      command: info.bin,
      args: ['build', '-o', 'raw', '.'],
      cwd: join(root, 'raw-go'),
      env: goEnv,
    })
    await runProcess({
      command: info.bin,
      args: ['build', '-o', 'spawn', '.'],
      cwd: join(root, 'spawn-go'),
      env: goEnv,
    })
    rawCmd = [join(root, 'raw-go', 'raw'), []]
    spawnCmd = [join(root, 'spawn-go', 'spawn'), [], join(root, 'spawn-go')]
  } else {
    rawCmd = [info.bin, rt.raw]
    spawnCmd = [info.bin, [rt.spawnScript].flat(), rawDir]
  }
  out.spawnFloor = await bareSpawn(spawnCmd[0], spawnCmd[1], spawnCmd[2], N.spawn)
  const raw = rawChild(rawCmd[0], rawCmd[1], rawDir)
  // Steady state: both sides get the same warm-up, long enough for V8 to optimise the hot path.
  for (let i = 0; i < N.warmup; i++) await raw.call(SMALL)
  out.rawRoundTrip = await timeSeq(N.seq, () => raw.call(SMALL))
  out.rawThroughput = await throughput(N.concurrent, CONCURRENCY, () => raw.call(SMALL))
  out.rawBig = await timeSeq(N.big, () => raw.call(BIG))
  raw.close()

  // fn stdio, one process per call.
  const stdio = await createRunner(adapter, stdioFn, runnerOpts)
  await stdio.invoke(request(SMALL))
  out.fnStdio = await timeSeq(N.spawn, (i) => stdio.invoke(request(SMALL, i)))
  await stdio.close()

  // fn handler, warm.
  const warm = await createRunner(adapter, warmFn, runnerOpts)
  await warm.warmUp()
  for (let i = 0; i < N.warmup; i++) await warm.invoke(request(SMALL, i))
  out.fnWarm = await timeSeq(N.seq, (i) => warm.invoke(request(SMALL, i)))
  out.fnThroughput = await throughput(N.concurrent, CONCURRENCY, (i) =>
    warm.invoke(request(SMALL, i)),
  )
  out.fnBig = await timeSeq(N.big, (i) => warm.invoke(request(BIG, i)))
  const check = await warm.invoke(request(SMALL))
  if (!check.ok) throw new Error(`${name} warm handler failed: ${JSON.stringify(check.error)}`)
  await warm.close()

  out.reload = await reloadLatency(name, adapter, root, rt, extra)

  if (name === 'go') {
    // go run per call (what a naive Go runner does) vs fn's cached binary.
    out.goRun = await timeSeq(3, () =>
      runProcess(
        {
          command: info.bin,
          args: ['run', '.'],
          cwd: join(root, 'spawn-go'),
          env: { ...process.env },
        },
        { input: JSON.stringify(request(SMALL)) },
      ),
    )
    const coldDir = join(root, '.cache', 'go-cold')
    const t = performance.now()
    const cold = await createRunner(go(), stdioFn, { cacheDir: coldDir })
    await cold.invoke(request(SMALL))
    out.goFirstCallWithBuild = performance.now() - t
    await cold.close()
  }
  return out
}

/** Hot reload: from the file write to the first response from the new code (fn dev's loop). */
async function reloadLatency(name, adapter, root, rt, extra) {
  const dir = join(root, `${name}-reload`)
  const source = (v) => HANDLERS.versioned[name](rt.entry, v)
  const write = async (v) => {
    await mkdir(join(dir, 'fn'), { recursive: true })
    for (const [file, content] of Object.entries({ ...source(v), ...extra })) {
      await writeFile(join(dir, 'fn', file), content)
    }
    await writeFile(join(dir, 'fn', 'fn.yaml'), `runtime: ${name}\n`)
  }
  await write(0)
  const executor = createExecutor({
    dir,
    runtimes: [adapter],
    cacheDir: join(root, '.cache', `${name}-reload`),
  })
  await executor.start()
  await executor.watch({ debounceMs: 20 })
  const times = []
  try {
    for (let v = 1; v <= 5; v++) {
      const t = performance.now()
      await write(v)
      for (;;) {
        const res = await executor.invoke('fn', null)
        if (res.output === v) break
        if (performance.now() - t > 60_000) throw new Error(`${name}: reload to v${v} never showed`)
        await new Promise((r) => setTimeout(r, 2))
      }
      times.push(performance.now() - t)
    }
  } finally {
    await executor.close()
  }
  return { p50: quantile(times, 0.5), max: Math.max(...times) }
}

async function readFixture(rel) {
  const { readFile } = await import('node:fs/promises')
  return readFile(join(fixtures, rel), 'utf8')
}

// ---------------------------------------------------------------- report
function ratio(a, b) {
  return b > 0 ? Math.round((a / b) * 100) / 100 : null
}

function report(results, meta) {
  const rows = []
  rows.push(`# fn benchmark, ${meta.date}`)
  rows.push('')
  rows.push(
    `Machine: ${meta.cpus} × ${meta.cpuModel}, ${meta.memGiB} GiB, Node ${meta.node}, ${meta.platform}.`,
  )
  rows.push(
    `Samples: ${N.spawn} spawns, ${N.seq} sequential calls after ${N.warmup} warm-up calls, ${N.concurrent} calls with ${CONCURRENCY} concurrent callers (pool of 2 workers), ${N.big} × 1 MiB.`,
  )
  rows.push('')
  rows.push(
    '| runtime | bare spawn p50 | fn stdio p50 | stdio / spawn (target ≤ 1.1) | raw round trip p50 | fn warm p50 / p99 | warm / raw (target ≤ 1.5) | spawn / warm (target ≥ 300) | raw req/s (64 callers) | fn req/s | raw 1 MiB p50 | fn 1 MiB p50 |',
  )
  rows.push('| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |')
  for (const r of results) {
    if (r.error) {
      rows.push(`| ${r.runtime} | failed: ${r.error} |`)
      continue
    }
    rows.push(
      `| ${r.runtime} ${r.version} | ${ms(r.spawnFloor.p50)} ms | ${ms(r.fnStdio.p50)} ms | ${ratio(r.fnStdio.p50, r.spawnFloor.p50)} | ${ms(r.rawRoundTrip.p50 * 1000)} µs | ${ms(r.fnWarm.p50 * 1000)} / ${ms(r.fnWarm.p99 * 1000)} µs | ${ratio(r.fnWarm.p50, r.rawRoundTrip.p50)} | ${Math.round(r.spawnFloor.p50 / r.fnWarm.p50)} | ${Math.round(r.rawThroughput)} | ${Math.round(r.fnThroughput)} | ${ms(r.rawBig.p50)} ms | ${ms(r.fnBig.p50)} ms |`,
    )
  }
  rows.push('')
  rows.push('| reload: file write → first response from the new code | p50 | max (5 edits) |')
  rows.push('| --- | --- | --- |')
  for (const r of results) {
    if (!r.error) rows.push(`| ${r.runtime} | ${ms(r.reload.p50)} ms | ${ms(r.reload.max)} ms |`)
  }
  const g = results.find((r) => r.runtime === 'go' && !r.error)
  if (g) {
    rows.push('')
    rows.push('| Go | p50 | vs prebuilt binary spawn |')
    rows.push('| --- | --- | --- |')
    rows.push(`| prebuilt binary, bare spawn (floor) | ${ms(g.spawnFloor.p50)} ms | 1 |`)
    rows.push(
      `| \`go run\` per call | ${ms(g.goRun.p50)} ms | ${ratio(g.goRun.p50, g.spawnFloor.p50)} |`,
    )
    rows.push(
      `| fn stdio, cached binary (oneshot) | ${ms(g.fnStdio.p50)} ms | ${ratio(g.fnStdio.p50, g.spawnFloor.p50)} (target ≤ 2) |`,
    )
    rows.push(
      `| fn first call including the build | ${ms(g.goFirstCallWithBuild)} ms | ${ratio(g.goFirstCallWithBuild, g.spawnFloor.p50)} |`,
    )
    rows.push(
      `| fn handler, warm | ${ms(g.fnWarm.p50 * 1000)} µs | ${ratio(g.fnWarm.p50, g.spawnFloor.p50)} |`,
    )
  }
  return `${rows.join('\n')}\n`
}

// ---------------------------------------------------------------- main
const wanted = process.argv.slice(2).filter((a) => a in RUNTIMES)
const names = wanted.length ? wanted : Object.keys(RUNTIMES)
const root = await mkdtemp(join(tmpdir(), 'fn-bench-'))
const results = []
try {
  for (const name of names) {
    process.stderr.write(`bench: ${name}...\n`)
    try {
      results.push(await benchRuntime(name, root))
    } catch (err) {
      process.stderr.write(`bench: ${name} failed: ${err?.stack ?? err}\n`)
      results.push({ runtime: name, error: String(err?.message ?? err).split('\n')[0] })
    }
  }
} finally {
  await rm(root, { recursive: true, force: true })
}
const date = new Date().toISOString().slice(0, 10)
const meta = machine(date)
const md = report(results, meta)
await mkdir(join(here, 'results'), { recursive: true })
await writeFile(
  join(here, 'results', `${date}.json`),
  `${JSON.stringify({ meta, N, results }, null, 2)}\n`,
)
await writeFile(join(here, 'results', `${date}.md`), md)
process.stdout.write(md)
