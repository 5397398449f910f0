/**
 * The conformance suite every adapter runs (ours and third parties'): real processes, real
 * runtime, the same scenarios for every language. An adapter supplies one small fixture program
 * per scenario, written in its language; see FIXTURES.md in this package for what each does.
 *
 *   import { testAdapter } from '@fn/runtime-core/conformance'
 *   testAdapter({ name: 'python', adapter: (bin) => python({ bin }), bin, fixtures })
 */
import { existsSync, readFileSync } from 'node:fs'
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { dirname, join } from 'node:path'
import type { FunctionDefinition, Mode, PoolConfig, Protocol } from '@fn/manifest'
import type { FnRequest } from '@fn/protocol'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { RuntimeAdapter } from './adapter'
import { createRunner, type Runner, type RunnerOptions } from './runner'

export type StdioScenario = 'echo' | 'fail' | 'exit' | 'garbage' | 'sleep'
export type HandlerScenario =
  | 'echo'
  | 'sync'
  | 'throws'
  | 'logs'
  | 'crash'
  | 'sleep'
  | 'pid'
  | 'unserialisable'

/** Source files of one fixture function: file name -> content. The entry is `entry`. */
export type FixtureFiles = Record<string, string>

export interface ConformanceFixtures {
  /** Entry file name, e.g. 'main.py'. */
  entry: string
  /** Files every fixture function gets besides its entry (e.g. go.mod). */
  common?: FixtureFiles
  stdio: Record<StdioScenario, string>
  /**
   * `concurrent` is optional: an adapter whose shim runs several calls per worker
   * (fn.yaml `pool.concurrency`) supplies it, and the concurrency scenarios run.
   */
  handler: Record<HandlerScenario, string> & { concurrent?: string }
}

export interface ConformanceOptions {
  /** Names the suite. */
  name: string
  /** Builds the adapter under test; `bin` is the binary the test found (or a missing path). */
  adapter: (bin: string) => RuntimeAdapter
  bin: string
  fixtures: ConformanceFixtures
  runner?: Partial<RunnerOptions>
}

const SECRET = 'FN_CONFORMANCE_HOST_SECRET'

/** Alive and not a zombie. */
export function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0)
  } catch {
    return false
  }
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8')
    return !/^\d+ \(.*\) [ZX]/.test(stat)
  } catch {
    return existsSync(`/proc/${pid}`)
  }
}

/** A fixture's pool: one worker, one call at a time, unless the scenario says otherwise. */
function pool(overrides: Partial<PoolConfig> = {}): PoolConfig {
  return { min: 0, max: 1, idleTimeoutMs: 60_000, maxRequests: 0, concurrency: 1, ...overrides }
}

async function waitFor(check: () => boolean, ms: number): Promise<boolean> {
  const until = Date.now() + ms
  while (Date.now() < until) {
    if (check()) return true
    await new Promise((r) => setTimeout(r, 25))
  }
  return check()
}

export function testAdapter(options: ConformanceOptions): void {
  const { fixtures } = options
  let root = ''
  const runners: Runner[] = []
  let seq = 0

  beforeAll(async () => {
    root = await mkdtemp(join(tmpdir(), `fn-conformance-${options.name}-`))
    process.env[SECRET] = 'host-only-secret'
  })
  afterAll(async () => {
    await Promise.all(runners.map((r) => r.close()))
    await rm(root, { recursive: true, force: true })
  })

  async function fixture(
    protocol: Protocol,
    scenario: string,
    source: string,
    overrides: Partial<FunctionDefinition> = {},
    adapter = options.adapter(options.bin),
  ): Promise<Runner> {
    const name = `${protocol}-${scenario}-${++seq}`
    const dir = join(root, name)
    await mkdir(dir, { recursive: true })
    for (const [file, content] of Object.entries({
      ...fixtures.common,
      [fixtures.entry]: source,
    })) {
      await mkdir(dirname(join(dir, file)), { recursive: true })
      await writeFile(join(dir, file), content)
    }
    const mode: Mode = protocol === 'stdio' ? 'oneshot' : 'warm'
    const fn: FunctionDefinition = {
      name,
      dir,
      entry: join(dir, fixtures.entry),
      entryRelative: fixtures.entry,
      runtime: adapter.name,
      protocol,
      mode,
      timeoutMs: 20_000,
      pool: pool(),
      env: { FN_DECLARED: 'declared-value' },
      permissions: { net: false, read: true, write: true, env: true, run: true },
      ...overrides,
    }
    const runner = await createRunner(adapter, fn, {
      cacheDir: join(root, '.cache', adapter.name),
      killGraceMs: 200,
      ...options.runner,
    })
    runners.push(runner)
    return runner
  }

  const request = (input: unknown, id = `req-${++seq}`): FnRequest => ({
    request_id: id,
    function: 'fixture',
    input,
    context: {},
  })

  const unicode = { text: 'héllo wörld — 你好, мир 👋🏽 \u0000 "quotes" \\ \n newline', n: 42 }

  describe(`${options.name}: stdio protocol`, () => {
    it('echoes unicode input and sees only declared env', async () => {
      const r = await fixture('stdio', 'echo', fixtures.stdio.echo)
      const out = await r.invoke(request(unicode, 'unicode-1'))
      expect(out.error).toBeUndefined()
      expect(out.ok).toBe(true)
      expect(out.output).toMatchObject({
        input: unicode,
        request_id: 'unicode-1',
        secret: null,
        declared: 'declared-value',
      })
      expect(out.cold).toBe(true)
    })

    it('moves a 5 MiB input and a 5 MiB output', async () => {
      const r = await fixture('stdio', 'echo-big', fixtures.stdio.echo)
      const big = 'x'.repeat(5 * 1024 * 1024)
      const out = await r.invoke(request({ big }))
      expect(out.ok).toBe(true)
      expect((out.output as { input: { big: string } }).input.big.length).toBe(big.length)
    })

    it("reports the function's own error", async () => {
      const r = await fixture('stdio', 'fail', fixtures.stdio.fail)
      const out = await r.invoke(request({}))
      expect(out.ok).toBe(false)
      expect(out.error).toMatchObject({ code: 'E_FIXTURE', message: 'fixture failed on purpose' })
    })

    it('types a non-zero exit as CRASHED with the stderr tail', async () => {
      const r = await fixture('stdio', 'exit', fixtures.stdio.exit)
      const out = await r.invoke(request({}))
      expect(out.error?.code).toBe('CRASHED')
      expect(out.error?.message).toContain('code 3')
      expect(out.error?.message).toContain('fixture exiting')
    })

    it('types output that is not JSON as PROTOCOL_ERROR', async () => {
      const r = await fixture('stdio', 'garbage', fixtures.stdio.garbage)
      const out = await r.invoke(request({}))
      expect(out.error?.code).toBe('PROTOCOL_ERROR')
      expect(out.error?.message).toContain('this is not json')
    })

    it('kills the whole process group at the deadline, grandchild included', async () => {
      const pidFile = join(root, `stdio-grandchild-${++seq}.pid`)
      const r = await fixture('stdio', 'sleep', fixtures.stdio.sleep, { timeoutMs: 1500 })
      const out = await r.invoke(request({ pidFile }))
      expect(out.error?.code).toBe('TIMEOUT')
      const pid = Number(readFileSync(pidFile, 'utf8').trim())
      expect(pid).toBeGreaterThan(0)
      expect(await waitFor(() => !processAlive(pid), 3000)).toBe(true)
    })

    it('fails with RUNTIME_NOT_AVAILABLE when the binary does not exist', async () => {
      const adapter = options.adapter('/nonexistent/fn-runtime-binary')
      await expect(
        fixture('stdio', 'missing', fixtures.stdio.echo, {}, adapter),
      ).rejects.toMatchObject({
        code: 'RUNTIME_NOT_AVAILABLE',
        message: expect.stringContaining('/nonexistent/fn-runtime-binary'),
      })
    })
  })

  describe(`${options.name}: handler protocol`, () => {
    it('serves an async handler warm, with ctx and isolated env', async () => {
      const r = await fixture('handler', 'echo', fixtures.handler.echo)
      const first = await r.invoke(request(unicode, 'h-1'))
      expect(first.error).toBeUndefined()
      expect(first.output).toMatchObject({
        input: unicode,
        request_id: 'h-1',
        secret: null,
        declared: 'declared-value',
      })
      expect(first.cold).toBe(true)
      const second = await r.invoke(request({ again: true }, 'h-2'))
      expect(second.output).toMatchObject({ input: { again: true }, request_id: 'h-2' })
      expect(second.cold).toBe(false)
    })

    it('moves a 5 MiB input and a 5 MiB output through a warm worker', async () => {
      const r = await fixture('handler', 'echo-big', fixtures.handler.echo)
      const big = 'y'.repeat(5 * 1024 * 1024)
      const out = await r.invoke(request({ big }))
      expect(out.error).toBeUndefined()
      expect((out.output as { input: { big: string } }).input.big).toBe(big)
    })

    it('serves a sync handler', async () => {
      const r = await fixture('handler', 'sync', fixtures.handler.sync)
      const out = await r.invoke(request({ n: 21 }))
      expect(out.output).toEqual({ doubled: 42 })
    })

    it('turns a thrown error into FUNCTION_ERROR or its own code, and keeps serving', async () => {
      const r = await fixture('handler', 'throws', fixtures.handler.throws)
      const out = await r.invoke(request({ why: 'negative' }))
      expect(out.ok).toBe(false)
      expect(['E_FIXTURE', 'FUNCTION_ERROR']).toContain(out.error?.code)
      expect(out.error?.message).toContain('bad input: negative')
      const again = await r.invoke(request({ why: 'again' }))
      expect(again.error?.message).toContain('bad input: again')
      expect(again.cold).toBe(false)
    })

    it('says clearly when the handler returns something not serialisable', async () => {
      const r = await fixture('handler', 'unserialisable', fixtures.handler.unserialisable)
      const out = await r.invoke(request({}))
      expect(out.ok).toBe(false)
      expect(out.error?.message.toLowerCase()).toMatch(/serial|json|marshal/)
    })

    it('attributes logs from every source to the right invocation under concurrency', async () => {
      const r = await fixture('handler', 'logs', fixtures.handler.logs, {
        pool: pool({ max: 3 }),
      })
      const tags = Array.from({ length: 9 }, (_, i) => `t${i}x`)
      const outs = await Promise.all(
        tags.map((tag, i) => r.invoke(request({ tag, delayMs: (i % 3) * 40 }))),
      )
      outs.forEach((out, i) => {
        const tag = tags[i]!
        expect(out.error).toBeUndefined()
        expect(out.output).toEqual({ tag })
        const messages = out.logs.map((l) => l.message)
        for (const m of messages) expect(m).toContain(tag)
        for (const source of ['stdout', 'stderr', 'structured', 'fd1', 'child', 'after sleep']) {
          expect(
            messages.some((m) => m.startsWith(`${source} ${tag}`)),
            `${source} ${tag} in ${messages}`,
          ).toBe(true)
        }
        expect(out.logs.find((l) => l.message.startsWith('stderr'))?.level).toBe('error')
        expect(out.logs.find((l) => l.message.startsWith('stdout'))?.level).toBe('info')
        const structured = out.logs.find((l) => l.message.startsWith('structured'))
        expect(structured?.level).toBe('info')
        expect(structured?.data).toEqual({ tag })
        expect(out.logs.find((l) => l.message.startsWith('after sleep'))?.level).toBe('warn')
      })
    })

    it('replaces a worker that crashes mid-invocation; the next call succeeds', async () => {
      const r = await fixture('handler', 'crash', fixtures.handler.crash)
      expect((await r.invoke(request({}))).output).toBe('alive')
      const crashed = await r.invoke(request({ crash: true }))
      expect(crashed.error?.code).toBe('CRASHED')
      expect(crashed.error?.message).toContain('code 7')
      const after = await r.invoke(request({}))
      expect(after.output).toBe('alive')
      expect(after.cold).toBe(true)
    })

    it('kills a worker at the deadline (grandchild too) and serves the next call', async () => {
      const r = await fixture('handler', 'sleep', fixtures.handler.sleep, { timeoutMs: 1500 })
      const pidFile = join(root, `handler-grandchild-${++seq}.pid`)
      const out = await r.invoke(request({ ms: 60_000, pidFile }))
      expect(out.error?.code).toBe('TIMEOUT')
      const pid = Number(readFileSync(pidFile, 'utf8').trim())
      expect(await waitFor(() => !processAlive(pid), 3000)).toBe(true)
      const next = await r.invoke(request({ ms: 1 }))
      expect(next.output).toEqual({ slept: 1 })
      expect(next.cold).toBe(true)
    })

    it('answers a call whose caller went away at once; the worker finishes it and stays', async () => {
      const r = await fixture('handler', 'gone', fixtures.handler.sleep)
      const first = await r.invoke(request({ ms: 1 }))
      expect(first.error).toBeUndefined()
      const ac = new AbortController()
      setTimeout(() => ac.abort(), 100)
      const gone = await r.invoke(request({ ms: 600 }), { signal: ac.signal })
      expect(gone.error?.code).toBe('CANCELLED')
      // The next call waits for the worker to finish the abandoned one, then runs warm on it.
      const next = await r.invoke(request({ ms: 1 }))
      expect(next.output).toEqual({ slept: 1 })
      expect(next.cold).toBe(false)
      expect(r.stats().started).toBe(1)
    })

    it('recycles a worker after max_requests', async () => {
      const r = await fixture('handler', 'pid', fixtures.handler.pid, {
        pool: pool({ maxRequests: 2 }),
      })
      const pids: number[] = []
      for (let i = 0; i < 4; i++) pids.push((await r.invoke(request({}))).output as number)
      expect(pids[0]).toBe(pids[1])
      expect(pids[2]).not.toBe(pids[1])
      expect(pids[2]).toBe(pids[3])
      expect(await waitFor(() => !processAlive(pids[0]!), 3000)).toBe(true)
    })

    it('shuts idle workers down after idle_timeout', async () => {
      const r = await fixture('handler', 'idle', fixtures.handler.pid, {
        pool: pool({ idleTimeoutMs: 300 }),
      })
      const pid = (await r.invoke(request({}))).output as number
      expect(await waitFor(() => !processAlive(pid), 5000)).toBe(true)
      expect(r.stats().alive).toBe(0)
      const next = await r.invoke(request({}))
      expect(next.cold).toBe(true)
      expect(next.output).not.toBe(pid)
    })

    it('runs a fresh process per call in oneshot mode', async () => {
      const r = await fixture('handler', 'oneshot', fixtures.handler.pid, { mode: 'oneshot' })
      const a = await r.invoke(request({}))
      const b = await r.invoke(request({}))
      expect(a.cold && b.cold).toBe(true)
      expect(a.output).not.toBe(b.output)
      expect(processAlive(a.output as number)).toBe(false)
    })

    it('close() drains in-flight calls and leaves no process behind', async () => {
      const r = await fixture('handler', 'drain', fixtures.handler.pid, {
        pool: pool({ min: 2, max: 2 }),
      })
      await r.warmUp()
      const pid = (await r.invoke(request({}))).output as number
      expect(r.stats().alive).toBe(2)
      await r.close()
      expect(r.stats().alive).toBe(0)
      expect(processAlive(pid)).toBe(false)
    })
  })

  const concurrent = fixtures.handler.concurrent
  describe.skipIf(!concurrent)(
    `${options.name}: several calls per worker (pool.concurrency)`,
    () => {
      interface Ran {
        tag: string
        pid: number
        start: number
        end: number
      }
      const ran = (out: { output?: unknown }) => out.output as Ran

      it('runs calls at once in one worker, each with its own logs', async () => {
        const r = await fixture('handler', 'concurrent', concurrent!, {
          pool: pool({ max: 2, concurrency: 4 }),
        })
        const tags = Array.from({ length: 8 }, (_, i) => `c${i}x`)
        const outs = await Promise.all(tags.map((tag) => r.invoke(request({ tag, delayMs: 400 }))))
        outs.forEach((out, i) => {
          const tag = tags[i]!
          expect(out.error).toBeUndefined()
          expect(ran(out).tag).toBe(tag)
          const messages = out.logs.map((l) => l.message)
          for (const m of messages) expect(m, `${messages}`).toContain(tag)
          for (const line of [`log ${tag}`, `structured ${tag}`, `after ${tag}`]) {
            expect(messages, `${tag}: ${messages}`).toContain(line)
          }
          expect(out.logs.find((l) => l.message === `after ${tag}`)?.level).toBe('warn')
        })
        // Two workers served all eight, and calls in one worker overlapped in time.
        const pids = new Set(outs.map((o) => ran(o).pid))
        expect(pids.size).toBeLessThanOrEqual(2)
        const byPid = outs.map(ran).filter((o) => o.pid === ran(outs[0]!).pid)
        const overlapped = byPid.some((a) =>
          byPid.some((b) => a !== b && b.start < a.end && a.start < b.end),
        )
        expect(overlapped).toBe(true)
      })

      it('a call that times out is cancelled; its siblings and the worker go on', async () => {
        const r = await fixture('handler', 'concurrent-timeout', concurrent!, {
          pool: pool({ max: 1, concurrency: 4 }),
        })
        const first = ran(await r.invoke(request({ tag: 'w0x' })))
        const [hung, a, b] = await Promise.all([
          r.invoke(request({ tag: 'h0x', hang: true }), { timeoutMs: 300 }),
          r.invoke(request({ tag: 'a0x', delayMs: 800 })),
          r.invoke(request({ tag: 'b0x', delayMs: 800 })),
        ])
        expect(hung!.error?.code).toBe('TIMEOUT')
        expect(hung!.logs.map((l) => l.message)).toContain('log h0x')
        for (const out of [a!, b!]) {
          expect(out.error).toBeUndefined()
          expect(ran(out).pid).toBe(first.pid)
        }
        const next = await r.invoke(request({ tag: 'n0x' }))
        expect(ran(next).pid).toBe(first.pid)
        expect(next.cold).toBe(false)
      })

      it('a crash fails the calls of that worker only; the next call gets a new one', async () => {
        const r = await fixture('handler', 'concurrent-crash', concurrent!, {
          pool: pool({ min: 2, max: 2, concurrency: 2 }),
        })
        await r.warmUp()
        // The pool gives each call to the least-loaded worker: 1 and 3 share one worker, 2 and 4
        // the other.
        const outs = await Promise.all([
          r.invoke(request({ tag: 'x1x', crash: true, delayMs: 200 })),
          r.invoke(request({ tag: 'x2x', delayMs: 600 })),
          r.invoke(request({ tag: 'x3x', delayMs: 600 })),
          r.invoke(request({ tag: 'x4x', delayMs: 600 })),
        ])
        expect(outs[0]!.error?.code).toBe('CRASHED')
        expect(outs[0]!.error?.message).toContain('code 9')
        expect(outs[2]!.error?.code).toBe('CRASHED')
        expect(outs[1]!.error).toBeUndefined()
        expect(outs[3]!.error).toBeUndefined()
        expect(ran(outs[1]!).pid).toBe(ran(outs[3]!).pid)
        const next = await r.invoke(request({ tag: 'y1x' }))
        expect(next.error).toBeUndefined()
      })
    },
  )
}
