/** `fn invoke`, `fn list` and `fn build` as a user runs them, on real function folders. */
import { describeRuntime } from '@fn/tooling/runtimes'
import { afterAll, beforeAll, expect, it } from 'vitest'
import { fn, fnTty, hasScript, json, project } from '../test/helpers'

interface Response {
  success: boolean
  output?: Record<string, unknown>
  error?: { code: string; message: string }
  logs: Array<{ level: string; message: string; data?: unknown }>
}

describeRuntime('node', 'fn invoke, list and build', () => {
  let p: Awaited<ReturnType<typeof project>>
  beforeAll(async () => {
    p = await project({
      'hello/index.mjs': `export default async function (input, ctx) {
  ctx.log.info('greeting', { name: input?.name })
  console.warn('careful')
  return { hello: input?.name ?? 'world' }
}
`,
      'hello/fn.yaml': 'description: Says hello\nsample_input: { name: sample }\n',
      'fails/index.mjs': `export default async function () {
  throw Object.assign(new Error('no such thing'), { code: 'NOT_THERE' })
}
`,
      'slow/index.mjs': `export default async function (input) {
  await new Promise((r) => setTimeout(r, input?.ms ?? 0))
  return { slept: input?.ms ?? 0 }
}
`,
      'slow/fn.yaml': 'timeout: 400ms\n',
      'stdio-echo/index.mjs': `let raw = ''
for await (const chunk of process.stdin) raw += chunk
const request = JSON.parse(raw)
process.stdout.write(JSON.stringify({ request_id: request.request_id, success: true, output: { echo: request.input } }))
`,
      'stdio-echo/fn.yaml': 'protocol: stdio\n',
      'broken/index.mjs': 'export default () => 1\n',
      'broken/fn.yaml': 'description: bad timeout\ntimeout: soon\n',
    })
  })
  afterAll(() => p.cleanup())

  it('prints the response JSON and exits 0 on success', async () => {
    const run = await fn(['invoke', 'hello', '--input', '{"name":"Ada"}'], { cwd: p.root })
    expect(run.code).toBe(0)
    const res = json<Response>(run)
    expect(res.success).toBe(true)
    expect(res.output).toEqual({ hello: 'Ada' })
    expect(res.logs).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ level: 'info', message: 'greeting', data: { name: 'Ada' } }),
        expect.objectContaining({ level: 'warn', message: 'careful' }),
      ]),
    )
    // Piped stdout gets one compact line.
    expect(run.stdout.trim().split('\n')).toHaveLength(1)
  })

  it('sends fn.yaml sample_input when no input is given', async () => {
    const run = await fn(['invoke', 'hello'], { cwd: p.root })
    expect(run.code).toBe(0)
    expect(json<Response>(run).output).toEqual({ hello: 'sample' })
  })

  it('--input null sends null, not the sample', async () => {
    const run = await fn(['invoke', 'hello', '--input', 'null'], { cwd: p.root })
    expect(json<Response>(run).output).toEqual({ hello: 'world' })
  })

  it('reads --input-file, and stdin with --input-file -', async () => {
    await p.write({ '../input.json': '{"name":"from-file"}' })
    const fromFile = await fn(['invoke', 'hello', '--input-file', 'input.json'], { cwd: p.root })
    expect(json<Response>(fromFile).output).toEqual({ hello: 'from-file' })
    const fromStdin = await fn(['invoke', 'hello', '-f', '-'], {
      cwd: p.root,
      stdin: '{"name":"piped"}',
    })
    expect(fromStdin.code).toBe(0)
    expect(json<Response>(fromStdin).output).toEqual({ hello: 'piped' })
  })

  it('exits 1 with the function error and its own code', async () => {
    const run = await fn(['invoke', 'fails'], { cwd: p.root })
    expect(run.code).toBe(1)
    const res = json<Response>(run)
    expect(res.success).toBe(false)
    expect(res.error).toMatchObject({ code: 'NOT_THERE', message: 'no such thing' })
  })

  it('exits 1 with TIMEOUT when fn.yaml timeout or --timeout is exceeded', async () => {
    const byManifest = await fn(['invoke', 'slow', '--input', '{"ms":3000}'], { cwd: p.root })
    expect(byManifest.code).toBe(1)
    expect(json<Response>(byManifest).error?.code).toBe('TIMEOUT')
    const byFlag = await fn(['invoke', 'slow', '--input', '{"ms":300}', '--timeout', '50ms'], {
      cwd: p.root,
    })
    expect(byFlag.code).toBe(1)
    expect(json<Response>(byFlag).error?.code).toBe('TIMEOUT')
    const inTime = await fn(['invoke', 'slow', '--input', '{"ms":10}'], { cwd: p.root })
    expect(inTime.code).toBe(0)
    expect(json<Response>(inTime).output).toEqual({ slept: 10 })
  })

  it('runs stdio functions too', async () => {
    const run = await fn(['invoke', 'stdio-echo', '--input', '[1,2]'], { cwd: p.root })
    expect(run.code).toBe(0)
    expect(json<Response>(run).output).toEqual({ echo: [1, 2] })
  })

  it('exits 1 with FUNCTION_NOT_FOUND and the known names for an unknown function', async () => {
    const run = await fn(['invoke', 'helo'], { cwd: p.root })
    expect(run.code).toBe(1)
    const res = json<Response>(run)
    expect(res.error?.code).toBe('FUNCTION_NOT_FOUND')
    expect(res.error?.message).toContain('no function named "helo"')
    expect(res.error?.message).toContain('known: fails, hello, slow, stdio-echo')
  })

  it('exits 1 with the manifest error of a broken function, naming file and line', async () => {
    const run = await fn(['invoke', 'broken'], { cwd: p.root })
    expect(run.code).toBe(1)
    const res = json<Response>(run)
    expect(res.error?.code).toBe('INVALID_MANIFEST')
    expect(res.error?.message).toMatch(/fn\.yaml:2/)
  })

  it('--dir points at another folder (and FN_DIR does too)', async () => {
    const byFlag = await fn(['invoke', 'hello', '--dir', `${p.functions}`], { cwd: '/' })
    expect(byFlag.code).toBe(0)
    const byEnv = await fn(['invoke', 'hello'], { cwd: '/', env: { FN_DIR: p.functions } })
    expect(byEnv.code).toBe(0)
  })

  it('fn list prints JSON when piped: status and errors of broken functions', async () => {
    const run = await fn(['list'], { cwd: p.root })
    expect(run.code).toBe(0)
    const rows = json<Array<Record<string, unknown>>>(run)
    expect(rows.map((r) => r['name'])).toEqual(['broken', 'fails', 'hello', 'slow', 'stdio-echo'])
    expect(rows.find((r) => r['name'] === 'hello')).toMatchObject({
      runtime: 'node',
      protocol: 'handler',
      mode: 'warm',
      description: 'Says hello',
      status: 'ready',
    })
    expect(rows.find((r) => r['name'] === 'stdio-echo')).toMatchObject({
      protocol: 'stdio',
      status: 'ready',
    })
    const broken = rows.find((r) => r['name'] === 'broken')
    expect(broken).toMatchObject({ status: 'error', error: { code: 'INVALID_MANIFEST' } })
    expect(JSON.stringify(broken)).toContain('timeout')
    const flagged = await fn(['list', '--json'], { cwd: p.root })
    expect(json(flagged)).toEqual(rows)
  })

  it.runIf(hasScript)(
    'fn list on a TTY prints a table with the errors under their row',
    async () => {
      const run = await fnTty(['list'], { cwd: p.root })
      expect(run.code).toBe(0)
      expect(run.stdout).toMatch(/^NAME\s+RUNTIME\s+PROTOCOL\s+STATUS\s+DESCRIPTION$/m)
      expect(run.stdout).toMatch(/^hello\s+node\s+handler\/warm\s+ready\s+Says hello$/m)
      expect(run.stdout).toMatch(/^stdio-echo\s+node\s+stdio\/oneshot\s+ready$/m)
      expect(run.stdout).toMatch(/^broken\s+-\s+-\s+error\n\s+└ INVALID_MANIFEST: .*timeout/m)
      expect(run.stdout).toMatch(/^runtimes: node \d+\.\d+/m)
      expect(run.stdout).not.toContain('\u001b[3')
    },
  )

  it.runIf(hasScript)('colours on a TTY, none with NO_COLOR or --no-color', async () => {
    const colored = await fnTty(['list'], { cwd: p.root, color: true })
    expect(colored.stdout).toContain('\u001b[32mready\u001b[39m')
    const flagged = await fnTty(['--no-color', 'list'], { cwd: p.root, color: true })
    expect(flagged.stdout).toMatch(/hello\s+node/)
    expect(flagged.stdout).not.toContain('\u001b[32m')
    const env = await fnTty(['list'], { cwd: p.root, color: true, env: { NO_COLOR: '1' } })
    expect(env.stdout).not.toContain('\u001b[32m')
  })

  it.runIf(hasScript)('fn invoke pretty-prints on a TTY', async () => {
    const run = await fnTty(['invoke', 'hello'], { cwd: p.root })
    expect(run.code).toBe(0)
    expect(run.stdout).toContain('\n  "success": true,\n')
  })

  it('fn build exits 1 and lists what failed', async () => {
    const human = await fn(['build'], { cwd: p.root })
    expect(human.code).toBe(1)
    expect(human.stdout).toMatch(/✓ hello node/)
    expect(human.stdout).toMatch(/✗ broken/)
    expect(human.stdout).toContain('INVALID_MANIFEST')
    expect(human.stdout).toMatch(/1 of 5 failed: broken/)
    const machine = await fn(['build', '--json'], { cwd: p.root })
    expect(machine.code).toBe(1)
    const result = json<{ ok: boolean; functions: Array<{ name: string; status: string }> }>(
      machine,
    )
    expect(result.ok).toBe(false)
    expect(result.functions.filter((f) => f.status === 'failed').map((f) => f.name)).toEqual([
      'broken',
    ])
    expect(result.functions.filter((f) => f.status === 'ok')).toHaveLength(4)
  })

  it('fn build exits 0 when everything builds', async () => {
    const ok = await project({
      'a/index.mjs': 'export default () => 1\n',
      'b/index.mjs': 'export default () => 2\n',
    })
    try {
      const run = await fn(['build'], { cwd: ok.root })
      expect(run.code).toBe(0)
      expect(run.stdout).toContain('built 2 functions')
    } finally {
      await ok.cleanup()
    }
  })

  it('fn build starts a worker of each handler, so a module that does not load fails it', async () => {
    const bad = await project({
      'good/index.mjs': 'export default () => 1\n',
      'typo/index.mjs': 'export default () => {\n',
    })
    try {
      const run = await fn(['build', '--json'], { cwd: bad.root })
      expect(run.code).toBe(1)
      const result = json<{
        functions: Array<{ name: string; status: string; error?: { code: string } }>
      }>(run)
      expect(result.functions.find((f) => f.name === 'typo')).toMatchObject({
        status: 'failed',
        error: { code: 'BUILD_FAILED' },
      })
      expect(result.functions.find((f) => f.name === 'good')?.status).toBe('ok')
    } finally {
      await bad.cleanup()
    }
  })
})

describeRuntime('python', 'fn invoke on Python', () => {
  let p: Awaited<ReturnType<typeof project>>
  beforeAll(async () => {
    p = await project({
      'py-hello/main.py': `def handler(input, ctx):
    ctx.log.info("hi from python")
    print("printed")
    return {"hello": (input or {}).get("name", "world")}
`,
      'py-fails/main.py': `class Missing(Exception):
    code = "MISSING"


def handler(input, ctx):
    raise Missing("not here")
`,
      'py-syntax/main.py': 'def handler(input, ctx)\n    return 1\n',
    })
  })
  afterAll(() => p.cleanup())

  it('succeeds with exit 0 and the handler output', async () => {
    const run = await fn(['invoke', 'py-hello', '--input', '{"name":"Guido"}'], { cwd: p.root })
    expect(run.code).toBe(0)
    const res = json<Response>(run)
    expect(res.output).toEqual({ hello: 'Guido' })
    expect(res.logs.map((l) => l.message)).toEqual(
      expect.arrayContaining(['hi from python', 'printed']),
    )
  })

  it('exits 1 with the exception code', async () => {
    const run = await fn(['invoke', 'py-fails'], { cwd: p.root })
    expect(run.code).toBe(1)
    expect(json<Response>(run).error).toMatchObject({ code: 'MISSING', message: 'not here' })
  })

  it('exits 1 when the module does not load', async () => {
    const run = await fn(['invoke', 'py-syntax'], { cwd: p.root })
    expect(run.code).toBe(1)
    const res = json<Response>(run)
    expect(res.success).toBe(false)
    expect(res.error?.message).toMatch(/SyntaxError|invalid syntax|expected ':'/)
  })
})
