import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { isFnError } from '@fn/protocol'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { sh } from '../test/sh-adapter'
import { createExecutor, type Executor } from './index'

let dir: string
let executors: Executor[] = []

async function fn(name: string, script: string, yaml?: string): Promise<void> {
  await mkdir(join(dir, name), { recursive: true })
  await writeFile(join(dir, name, 'main.sh'), script)
  if (yaml !== undefined) await writeFile(join(dir, name, 'fn.yaml'), yaml)
}

async function start(
  options: Partial<Parameters<typeof createExecutor>[0]> = {},
): Promise<Executor> {
  const ex = createExecutor({ dir, runtimes: [sh()], cacheDir: join(dir, '.cache'), ...options })
  executors.push(ex)
  await ex.start()
  return ex
}

const ok = (output: string) => `cat > /dev/null; echo '{"success": true, "output": ${output}}'\n`

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'fn-executor-'))
  executors = []
})
afterEach(async () => {
  await Promise.all(executors.map((e) => e.close()))
  await rm(dir, { recursive: true, force: true })
})

describe('executor', () => {
  it('discovers, lists and invokes, with request id, timings and stats', async () => {
    await fn(
      'hello',
      ok('{"hi": 1}'),
      'protocol: stdio\ndescription: says hi\nenv: { GREETING: hey }\n',
    )
    const ex = await start()
    expect(ex.list()).toEqual([
      {
        name: 'hello',
        runtime: 'sh',
        protocol: 'stdio',
        mode: 'oneshot',
        description: 'says hi',
        status: 'ready',
      },
    ])
    expect(ex.get('hello')).toMatchObject({
      env: ['GREETING'],
      entry: 'main.sh',
      timeoutMs: 30_000,
    })
    const res = await ex.invoke('hello', { a: 1 }, { requestId: 'r-1' })
    expect(res.error).toBeUndefined()
    expect(res).toMatchObject({ request_id: 'r-1', success: true, output: { hi: 1 }, cold: true })
    expect(res.duration_ms).toBeGreaterThan(0)
    expect(res.queue_ms).toBeGreaterThanOrEqual(0)
    await ex.invoke('hello', {})
    const stats = ex.stats().functions['hello']!
    expect(stats.invocations).toBe(2)
    expect(stats.coldStarts).toBe(2)
    expect(stats.p50Ms).toBeGreaterThan(0)
    expect(stats.p99Ms).toBeGreaterThanOrEqual(stats.p50Ms!)
  })

  it('answers FUNCTION_NOT_FOUND, and throws FnError when asked to', async () => {
    await fn('hello', ok('1'), 'protocol: stdio\n')
    const ex = await start()
    const res = await ex.invoke('nope', {})
    expect(res.success).toBe(false)
    expect(res.error?.code).toBe('FUNCTION_NOT_FOUND')
    expect(res.error?.message).toContain('hello')
    const err = await ex.invoke('nope', {}, { throwOnError: true }).catch((e) => e)
    expect(isFnError(err)).toBe(true)
    expect(err.code).toBe('FUNCTION_NOT_FOUND')
  })

  it('answers INVALID_INPUT for input that cannot be sent as JSON', async () => {
    await fn('hello', ok('1'), 'protocol: stdio\n')
    const ex = await start()
    const res = await ex.invoke('hello', { n: 1n })
    expect(res.error?.code).toBe('INVALID_INPUT')
    expect(res.error?.message).toContain('BigInt')
    expect((await ex.invoke('hello', {})).output).toBe(1)
  })

  it('counts errors by code', async () => {
    await fn('bad', 'exit 9\n', 'protocol: stdio\n')
    const ex = await start()
    expect((await ex.invoke('bad', {})).error?.code).toBe('CRASHED')
    expect(ex.stats().functions['bad']!.errors).toEqual({ CRASHED: 1 })
  })

  it('keeps serving the others when one function is broken or its runtime is missing', async () => {
    await fn('good', ok('"fine"'), 'protocol: stdio\n')
    await fn('broken', ok('1'), 'protocol: stdio\ntimout: 3s\n')
    await fn('pyfn', '', 'runtime: python\nentry: main.sh\n')
    const ex = await start()
    expect((await ex.invoke('good', {})).output).toBe('fine')
    expect(ex.problems().map((p) => p.error.code)).toEqual(['INVALID_MANIFEST'])
    expect(ex.problems()[0]!.error.message).toContain('did you mean "timeout"')
    const py = await ex.invoke('pyfn', {})
    expect(py.error?.code).toBe('RUNTIME_NOT_AVAILABLE')
    expect(py.error?.message).toContain('python()')
    expect(ex.list().find((f) => f.name === 'pyfn')?.status).toBe('error')
  })

  it('reports a missing runtime binary per function, and still starts', async () => {
    await fn('hello', ok('1'), 'protocol: stdio\n')
    const ex = await start({ runtimes: [sh('/nonexistent/sh')] })
    const res = await ex.invoke('hello', {})
    expect(res.error?.code).toBe('RUNTIME_NOT_AVAILABLE')
    expect(res.error?.message).toContain('/nonexistent/sh')
  })

  it('limits concurrency per function with a bounded queue: overflow is BUSY', async () => {
    await fn(
      'slow',
      'cat > /dev/null; sleep 0.5; echo \'{"success": true, "output": 1}\'\n',
      'protocol: stdio\nconcurrency: 1\n',
    )
    const ex = await start({ maxQueue: 1 })
    const results = await Promise.all([1, 2, 3].map(() => ex.invoke('slow', {})))
    const codes = results.map((r) => (r.success ? 'ok' : r.error?.code))
    expect(codes.sort()).toEqual(['BUSY', 'ok', 'ok'])
    expect(ex.stats().functions['slow']!.errors).toEqual({ BUSY: 1 })
  })

  it('applies a global limit across functions', async () => {
    const slow = 'cat > /dev/null; sleep 0.4; echo \'{"success": true, "output": 1}\'\n'
    await fn('a', slow, 'protocol: stdio\n')
    await fn('b', slow, 'protocol: stdio\n')
    const ex = await start({ concurrency: 1, maxQueue: 0 })
    const [a, b] = await Promise.all([ex.invoke('a', {}), ex.invoke('b', {})])
    expect([a.success, b.success].sort()).toEqual([false, true])
    expect((a.success ? b : a).error?.code).toBe('BUSY')
  })

  it('reloads: added, changed and removed functions', async () => {
    await fn('one', ok('1'), 'protocol: stdio\n')
    const ex = await start()
    await fn('two', ok('2'), 'protocol: stdio\n')
    await fn('one', ok('11'), 'protocol: stdio\n')
    await ex.reload()
    expect((await ex.invoke('one', {})).output).toBe(11)
    expect((await ex.invoke('two', {})).output).toBe(2)
    await rm(join(dir, 'two'), { recursive: true })
    await ex.reload()
    expect((await ex.invoke('two', {})).error?.code).toBe('FUNCTION_NOT_FOUND')
  })

  it('keeps the last good version when fn.yaml breaks, and shows the error', async () => {
    await fn('one', ok('1'), 'protocol: stdio\n')
    const ex = await start()
    await writeFile(join(dir, 'one', 'fn.yaml'), 'protocol: stdio\ntimeout: 30x\n')
    await ex.reload()
    expect((await ex.invoke('one', {})).output).toBe(1)
    const summary = ex.list().find((f) => f.name === 'one')
    expect(summary?.status).toBe('stale')
    expect(summary?.error?.message).toContain('30x')
  })

  it('resolves $VAR references from the host env and never leaks the rest of it', async () => {
    process.env['FN_EXECUTOR_TEST_SECRET'] = 'leak'
    await fn(
      'env',
      `cat > /dev/null; echo "{\\"success\\": true, \\"output\\": \\"\${FN_EXECUTOR_TEST_SECRET:-none} \${DECLARED}\\"}"\n`,
      // biome-ignore lint/suspicious/noTemplateCurlyInString: fn.yaml interpolation syntax
      'protocol: stdio\nenv:\n  DECLARED: yes-${FN_EXECUTOR_TEST_HOST}\n',
    )
    const ex = await start({ hostEnv: { ...process.env, FN_EXECUTOR_TEST_HOST: 'from-host' } })
    expect((await ex.invoke('env', {})).output).toBe('none yes-from-host')
  })
})
