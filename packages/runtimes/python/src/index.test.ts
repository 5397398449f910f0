import { execFileSync } from 'node:child_process'
import { readdirSync, readFileSync } from 'node:fs'
import { mkdir, mkdtemp, rm, symlink, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { dirname, isAbsolute, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import type { FunctionDefinition } from '@fn/manifest'
import { compareVersions, createRunner, RawJson, type Runner, which } from '@fn/runtime-core'
import { testAdapter } from '@fn/runtime-core/conformance'
import { describeRuntime } from '@fn/tooling/runtimes'
import { afterAll, beforeAll, expect, it } from 'vitest'
import { type PythonOptions, python } from './index'

const fixturesDir = fileURLToPath(new URL('../test/fixtures/', import.meta.url))
const read = (folder: string) =>
  Object.fromEntries(
    readdirSync(join(fixturesDir, folder)).map((file) => [
      file.replace(/\.py$/, ''),
      readFileSync(join(fixturesDir, folder, file), 'utf8'),
    ]),
  )

const stdio = read('stdio')
const handler = read('handler')

describeRuntime('python', 'conformance', (bin) =>
  testAdapter({
    name: 'python',
    adapter: (b) => python({ bin: b }),
    bin,
    fixtures: {
      entry: 'main.py',
      stdio: {
        echo: stdio['echo']!,
        fail: stdio['fail']!,
        exit: stdio['exit']!,
        garbage: stdio['garbage']!,
        sleep: stdio['sleep']!,
      },
      handler: {
        echo: handler['echo']!,
        sync: handler['sync']!,
        throws: handler['throws']!,
        unserialisable: handler['unserialisable']!,
        logs: handler['logs']!,
        crash: handler['crash']!,
        sleep: handler['sleep']!,
        pid: handler['pid']!,
        concurrent: handler['concurrent']!,
      },
    },
  }),
)

// --- what is specific to Python ------------------------------------------------------------------

type FnRequest = Parameters<Runner['invoke']>[0]

interface Fn {
  runner: Runner
  dir: string
}

describeRuntime('python', 'python adapter', (bin) => {
  let root = ''
  let cacheDir = ''
  const runners: Runner[] = []
  let seq = 0

  beforeAll(async () => {
    root = await mkdtemp(join(tmpdir(), 'fn-python-'))
    cacheDir = join(root, '.cache')
  })
  afterAll(async () => {
    await Promise.all(runners.map((r) => r.close()))
    await rm(root, { recursive: true, force: true })
  })

  /** A function folder with `files` (entry: main.py), served by a runner. */
  async function fn(
    files: Record<string, string>,
    overrides: Partial<FunctionDefinition> = {},
    options: PythonOptions = {},
  ): Promise<Fn> {
    const dir = join(root, `fn-${++seq}`)
    for (const [file, content] of Object.entries(files)) {
      await mkdir(dirname(join(dir, file)), { recursive: true })
      await writeFile(join(dir, file), content)
    }
    const protocol = overrides.protocol ?? 'handler'
    const definition: FunctionDefinition = {
      name: `fn-${seq}`,
      dir,
      entry: join(dir, 'main.py'),
      entryRelative: 'main.py',
      runtime: 'python',
      protocol,
      mode: protocol === 'stdio' ? 'oneshot' : 'warm',
      timeoutMs: 20_000,
      pool: { min: 0, max: 1, idleTimeoutMs: 60_000, maxRequests: 0, concurrency: 1 },
      env: {},
      permissions: { net: false, read: true, write: true, env: true, run: true },
      ...overrides,
    }
    const runner = await createRunner(python({ bin, ...options }), definition, { cacheDir })
    runners.push(runner)
    return { runner, dir }
  }

  const request = (input: unknown, context: FnRequest['context'] = {}): FnRequest => ({
    request_id: `r-${++seq}`,
    function: 'python-test',
    input,
    context,
  })

  it('passes an output on as the JSON text it wrote with rawOutput: big integers stay exact', async () => {
    const { runner } = await fn({
      'main.py': "def handler(input, ctx):\n    return {'big': 2**64 + 1, 'text': 'héllo'}\n",
    })
    const raw = await runner.invoke(request(null), { rawOutput: true })
    expect(raw.output).toBeInstanceOf(RawJson)
    expect((raw.output as RawJson).json).toContain('"big":18446744073709551617')
    const parsed = await runner.invoke(request(null))
    expect(parsed.output).toEqual({ big: 2 ** 64, text: 'héllo' }) // parsed: rounded to a double
  })

  it('runs plain handlers in threads under pool.concurrency, prints attributed per call', async () => {
    const { runner } = await fn(
      {
        'main.py':
          'import time\n\ndef handler(input, ctx):\n    start = time.time()\n    print("start " + input)\n    time.sleep(0.3)\n    print("end " + input)\n    return [start, time.time()]\n',
      },
      { pool: { min: 0, max: 1, idleTimeoutMs: 60_000, maxRequests: 0, concurrency: 4 } },
    )
    const tags = ['a1x', 'b2x', 'c3x', 'd4x']
    const outs = await Promise.all(tags.map((tag) => runner.invoke(request(tag))))
    outs.forEach((out, i) => {
      expect(out.error).toBeUndefined()
      expect(out.logs.map((l) => l.message)).toEqual([`start ${tags[i]}`, `end ${tags[i]}`])
    })
    // One worker ran them at once: some call started before another one ended.
    const spans = outs.map((o) => o.output as [number, number])
    expect(
      spans.some(([s1, e1]) => spans.some(([s2, e2]) => s1 !== s2 && s2 < e1 && s1 < e2)),
    ).toBe(true)
    expect(runner.stats().started).toBe(1)
  })

  it('finds the interpreter a pyenv shim would run without running the shim', async () => {
    const fake = join(root, 'pyenv')
    await mkdir(join(fake, 'shims'), { recursive: true })
    await mkdir(join(fake, 'versions', '3.x-test', 'bin'), { recursive: true })
    // A shim that fails if it is ever started, and a version whose python3 is the real one.
    await writeFile(join(fake, 'shims', 'python3'), '#!/bin/sh\nexit 97\n', { mode: 0o755 })
    await symlink(bin, join(fake, 'versions', '3.x-test', 'bin', 'python3'))
    await writeFile(join(fake, 'version'), '3.x-test\n')
    const saved = { PATH: process.env['PATH'], PYENV_VERSION: process.env['PYENV_VERSION'] }
    process.env['PATH'] = join(fake, 'shims')
    delete process.env['PYENV_VERSION']
    try {
      const info = await python().resolve()
      expect(compareVersions(info.version, '3.9')).toBeGreaterThanOrEqual(0)
    } finally {
      process.env['PATH'] = saved.PATH
      if (saved.PYENV_VERSION !== undefined) process.env['PYENV_VERSION'] = saved.PYENV_VERSION
    }
  })

  it('resolves the real interpreter behind a pyenv shim, once, and it runs', async () => {
    const onPath = which('python3')
    expect(onPath).toBeDefined()
    const info = await python().resolve()
    expect(isAbsolute(info.bin)).toBe(true)
    expect(compareVersions(info.version, '3.9')).toBeGreaterThanOrEqual(0)
    const isScript = readFileSync(onPath!).subarray(0, 2).toString() === '#!'
    if (isScript) expect(info.bin).not.toBe(onPath)
    const out = execFileSync(
      info.bin,
      ['-c', 'import platform; print(platform.python_version())'],
      {
        encoding: 'utf8',
        env: { PATH: '/usr/bin:/bin' },
      },
    )
    expect(out.trim()).toBe(info.version)
    // Asking again does not start the probe again.
    const adapter = python()
    expect(await adapter.resolve()).toBe(await adapter.resolve())
  })

  it('keeps a venv given as bin (its python is a symlink to the base interpreter)', async () => {
    const venv = join(root, 'venv')
    execFileSync(bin, ['-m', 'venv', '--without-pip', venv])
    const info = await python({ bin: join(venv, 'bin', 'python') }).resolve()
    expect(info.bin).toBe(join(venv, 'bin', 'python'))
    const { runner } = await fn(
      { 'main.py': 'import sys\n\ndef handler(input, ctx):\n    return sys.prefix\n' },
      {},
      { bin: join(venv, 'bin', 'python') },
    )
    expect((await runner.invoke(request({}))).output).toBe(venv)
  })

  it('imports a helper module next to the entry, in stdio and handler functions', async () => {
    const helper = { 'helper.py': 'def greet(name):\n    return "hello " + name\n' }
    const handlerFn = await fn({
      ...helper,
      'main.py':
        'from helper import greet\n\ndef handler(input, ctx):\n    return greet(input["name"])\n',
    })
    expect((await handlerFn.runner.invoke(request({ name: 'handler' }))).output).toBe(
      'hello handler',
    )
    const stdioFn = await fn(
      {
        ...helper,
        'main.py': [
          'import json, sys',
          'from helper import greet',
          'req = json.load(sys.stdin)',
          'print(json.dumps({"success": True, "output": greet(req["input"]["name"])}))',
          '',
        ].join('\n'),
      },
      { protocol: 'stdio' },
    )
    expect((await stdioFn.runner.invoke(request({ name: 'stdio' }))).output).toBe('hello stdio')
  })

  it('starts with -u -s -X utf8 and caches bytecode outside the function folder', async () => {
    const script = [
      'import json, sys',
      'import helper',
      'json.load(sys.stdin)',
      'f = sys.flags',
      'out = {"flags": [f.no_user_site, f.no_site, f.utf8_mode, f.dont_write_bytecode],',
      '       "prefix": sys.pycache_prefix, "path0": sys.path[0]}',
      'print(json.dumps({"success": True, "output": out}))',
      '',
    ].join('\n')
    const { runner, dir } = await fn(
      { 'main.py': script, 'helper.py': 'X = 1\n' },
      { protocol: 'stdio' },
    )
    const out = await runner.invoke(request({}))
    expect(out.output).toEqual({
      flags: [1, 0, 1, 0],
      prefix: expect.stringMatching(new RegExp(`^${join(cacheDir, 'pycache')}/[0-9a-f]{16}$`)),
      path0: dir,
    })
    expect(readdirSync(dir).sort()).toEqual(['helper.py', 'main.py'])
    expect(readdirSync(join(cacheDir, 'pycache'))).not.toHaveLength(0)

    const fast = await fn(
      { 'main.py': script, 'helper.py': 'X = 1\n' },
      { protocol: 'stdio' },
      {
        site: false,
        userSite: true,
        bytecodeCache: false,
      },
    )
    const flags = await fast.runner.invoke(request({}))
    expect(flags.output).toMatchObject({ flags: [0, 1, 1, 1], prefix: null })
    expect(readdirSync(fast.dir).sort()).toEqual(['helper.py', 'main.py'])
  })

  it('gives ctx its fields and a logger whose data falls back to repr()', async () => {
    const source = [
      'import time',
      '',
      'def handler(input, ctx):',
      '    ctx.log.debug("debug", {"n": 1})',
      '    ctx.log.warning("warning")',
      '    ctx.log.error("not json", {"when": object})',
      '    return {"request_id": ctx.request_id, "function": ctx.function, "auth": ctx.auth,',
      '            "env": ctx.env, "deadline_in": ctx.deadline - time.time() * 1000,',
      '            "remaining": ctx.remaining_ms() <= 5000}',
      '',
    ].join('\n')
    const { runner } = await fn({ 'main.py': source }, { timeoutMs: 5000 })
    const req = request(null, { auth: { user: 'ada' }, env: { REGION: 'eu' } })
    const out = await runner.invoke(req)
    expect(out.output).toMatchObject({
      request_id: req.request_id,
      function: 'python-test',
      auth: { user: 'ada' },
      env: { REGION: 'eu' },
      remaining: true,
    })
    const deadlineIn = (out.output as { deadline_in: number }).deadline_in
    expect(deadlineIn).toBeGreaterThan(3000)
    expect(deadlineIn).toBeLessThanOrEqual(5000)
    expect(out.logs.map((l) => [l.level, l.message, l.data])).toEqual([
      ['debug', 'debug', { n: 1 }],
      ['warn', 'warning', undefined],
      ['error', 'not json', "{'when': <class 'object'>}"],
    ])
    expect(out.logs[0]?.timestamp).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/)
  })

  it('types errors: own code, FUNCTION_ERROR, a traceback without the shim, NaN', async () => {
    const source = [
      'import asyncio',
      '',
      'class Fail(Exception):',
      '    def __init__(self, message, code):',
      '        super().__init__(message)',
      '        self.code = code',
      '',
      'async def handler(input, ctx):',
      '    await asyncio.sleep(0)',
      '    if input == "nan":',
      '        return float("nan")',
      '    raise Fail("failed: " + input, input)',
      '',
    ].join('\n')
    const { runner } = await fn({ 'main.py': source })
    const own = await runner.invoke(request('E_OWN_CODE'))
    expect(own.error).toMatchObject({ code: 'E_OWN_CODE', message: 'failed: E_OWN_CODE' })
    const details = own.error?.details as { type: string; traceback: string }
    expect(details.type).toBe('Fail')
    expect(details.traceback).toMatch(
      /^Traceback \(most recent call last\):\n {2}File ".*main\.py", line 12/,
    )
    expect(details.traceback).not.toContain('bootstrap.py')
    expect(details.traceback).not.toContain('asyncio')
    expect((await runner.invoke(request('lower_case'))).error?.code).toBe('FUNCTION_ERROR')
    const nan = await runner.invoke(request('nan'))
    expect(nan.error?.code).toBe('FUNCTION_ERROR')
    expect(nan.error?.message).toMatch(
      /^\[fn\] the handler returned a value that is not JSON-serialisable: /,
    )
  })

  it('fails to start with BUILD_FAILED when the entry does not load or has no handler', async () => {
    const broken = await fn({ 'main.py': 'def handler(input, ctx)\n    return 1\n' })
    const syntax = await broken.runner.invoke(request({}))
    expect(syntax.error?.code).toBe('BUILD_FAILED')
    expect(syntax.error?.message).toContain(`could not load ${broken.dir}/main.py: SyntaxError`)
    const missing = await fn({ 'main.py': 'def main(input, ctx):\n    return 1\n' })
    const none = await missing.runner.invoke(request({}))
    expect(none.error?.code).toBe('BUILD_FAILED')
    expect(none.error?.message).toContain('has no handler: define `def handler(input, ctx):`')
  })

  it('enforces memory with RLIMIT_AS: MEMORY_LIMIT in a handler, MemoryError in a script', async () => {
    const grab = 'def grab():\n    return len(bytearray(512 * 1024 * 1024))\n'
    const { runner } = await fn(
      {
        'grab.py': grab,
        'main.py':
          'from grab import grab\n\ndef handler(input, ctx):\n    return grab() if input else "ok"\n',
      },
      { memoryMb: 128 },
    )
    const out = await runner.invoke(request(true))
    expect(out.error?.code).toBe('MEMORY_LIMIT')
    expect(out.error?.details).toMatchObject({ type: 'MemoryError' })
    const next = await runner.invoke(request(false))
    expect(next.output).toBe('ok')
    expect(next.cold).toBe(false)

    const script = [
      'import json, resource, sys',
      'from grab import grab',
      'json.load(sys.stdin)',
      'try:',
      '    grab()',
      '    outcome = "allocated"',
      'except MemoryError:',
      '    outcome = "MemoryError"',
      'limit = resource.getrlimit(resource.RLIMIT_AS)[0]',
      'print(json.dumps({"success": True, "output": [outcome, limit, __name__]}))',
      '',
    ].join('\n')
    const stdioFn = await fn(
      { 'grab.py': grab, 'main.py': script },
      { protocol: 'stdio', memoryMb: 128 },
    )
    const result = await stdioFn.runner.invoke(request({}))
    expect(result.output).toEqual(['MemoryError', 128 * 1024 * 1024, '__main__'])
  })

  it('keeps the channel away from user code and exits when the host closes it', async () => {
    const source = [
      'import os, subprocess',
      '',
      'def handler(input, ctx):',
      '    fds = subprocess.run(["sh", "-c", "ls /proc/$$/fd"], capture_output=True, text=True, close_fds=False)',
      '    return {"inheritable": os.get_inheritable(3), "child_fds": sorted(int(x) for x in fds.stdout.split())}',
      '',
    ].join('\n')
    const { runner } = await fn({ 'main.py': source })
    const out = await runner.invoke(request({}))
    expect(out.output).toMatchObject({ inheritable: false })
    expect((out.output as { child_fds: number[] }).child_fds).not.toContain(3)
    await runner.close()
    expect(runner.stats().alive).toBe(0)
  })

  it('has a shim that Python 3.9 can parse', () => {
    for (const file of ['bootstrap.py', 'script.py']) {
      const path = fileURLToPath(new URL(`../shim/${file}`, import.meta.url))
      const check = `import ast, sys; ast.parse(open(sys.argv[1]).read(), feature_version=(3, 9))`
      expect(() => execFileSync(bin, ['-c', check, path], { stdio: 'pipe' })).not.toThrow()
    }
  })
})
