import { execFileSync } from 'node:child_process'
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs'
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { dirname, join } from 'node:path'
import type { FunctionDefinition } from '@fn/manifest'
import { createRunner, isFnError, type Runner, type RuntimeInfo } from '@fn/runtime-core'
import { describeRuntime } from '@fn/tooling/runtimes'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { type PythonAdapter, type PythonOptions, python } from './index'
import { relocate, requirementInputs, VenvBuilder } from './venv'

type FnRequest = Parameters<Runner['invoke']>[0]

const SIX = '# the only dependency\nsix==1.16.0\n'

/** What a function reports about where it runs: the same for handler and stdio. */
const REPORT = [
  'import os, sys',
  'import six',
  '',
  'def report():',
  '    return {"six": six.__version__, "six_file": six.__file__, "prefix": sys.prefix,',
  '            "executable": sys.executable, "env": sorted(os.environ),',
  '            "virtual_env": os.environ.get("VIRTUAL_ENV"), "path0": os.environ["PATH"].split(":")[0]}',
  '',
].join('\n')
const HANDLER = `${REPORT}\ndef handler(input, ctx):\n    return report()\n`
const STDIO = `${REPORT}\nimport json\njson.load(sys.stdin)\nprint(json.dumps({"success": True, "output": report()}))\n`

interface Report {
  six: string
  six_file: string
  prefix: string
  executable: string
  env: string[]
  virtual_env: string | null
  path0: string
}

describe('requirementInputs', () => {
  let dir = ''
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'fn-python-req-'))
  })
  afterAll(() => rm(dir, { recursive: true, force: true }))

  it('follows -r and -c (relative to the file naming them) and collects local paths', async () => {
    const files: Record<string, string> = {
      'requirements.txt': [
        '# comment',
        'six==1.16.0  # trailing comment',
        '-r reqs/base.txt',
        '--constraint=constraints.txt',
        '-r https://example.com/remote.txt',
        '-e ./lib',
        './wheels/pkg-1.0-py3-none-any.whl',
        'mypkg @ file:///opt/pkgs/mypkg',
        '--find-links ./links',
        'requests>=2 ; \\',
        '    python_version >= "3.9"',
        '',
      ].join('\n'),
      'reqs/base.txt': '-rmore.txt\n-r ../requirements.txt\n-c missing.txt\n',
      'reqs/more.txt': 'tomli\n',
      'constraints.txt': 'six<2\n',
    }
    for (const [file, text] of Object.entries(files)) {
      await mkdir(dirname(join(dir, file)), { recursive: true })
      await writeFile(join(dir, file), text)
    }
    const inputs = await requirementInputs(dir)
    expect(inputs.files).toEqual([
      'requirements.txt',
      'reqs/base.txt',
      'reqs/more.txt',
      'constraints.txt',
    ])
    expect(inputs.missing).toEqual(['reqs/missing.txt'])
    expect(inputs.local).toEqual([
      { path: join(dir, 'lib'), editable: true },
      { path: join(dir, 'wheels/pkg-1.0-py3-none-any.whl'), editable: false },
      { path: '/opt/pkgs/mypkg', editable: false },
      { path: join(dir, 'links'), editable: false },
    ])
  })
})

describe('relocate', () => {
  it('points shebangs, activate scripts and pyvenv.cfg at the final folder, keeping modes', async () => {
    const root = await mkdtemp(join(tmpdir(), 'fn-python-relocate-'))
    const from = join(root, 'key.tmp-1-abc')
    const to = join(root, 'key')
    await mkdir(join(from, 'bin'), { recursive: true })
    await writeFile(join(from, 'pyvenv.cfg'), `home = /usr/bin\ncommand = python -m venv ${from}\n`)
    await writeFile(join(from, 'bin', 'tool'), `#!${from}/bin/python\nimport sys\n`, {
      mode: 0o755,
    })
    await writeFile(
      join(from, 'bin', 'activate'),
      `VIRTUAL_ENV="${from}"\nPATH="${from}/bin:$PATH"\n`,
    )
    await writeFile(join(from, 'bin', 'data'), Buffer.from([0, 1, 2, 255]))
    await relocate(from, to)
    expect(readFileSync(join(from, 'bin', 'tool'), 'utf8')).toBe(`#!${to}/bin/python\nimport sys\n`)
    expect(statSync(join(from, 'bin', 'tool')).mode & 0o777).toBe(0o755)
    expect(readFileSync(join(from, 'bin', 'activate'), 'utf8')).toBe(
      `VIRTUAL_ENV="${to}"\nPATH="${to}/bin:$PATH"\n`,
    )
    expect(readFileSync(join(from, 'pyvenv.cfg'), 'utf8')).toContain(`venv ${to}\n`)
    expect([...readFileSync(join(from, 'bin', 'data'))]).toEqual([0, 1, 2, 255])
    await rm(root, { recursive: true, force: true })
  })
})

describeRuntime('python', 'requirements.txt', (bin) => {
  let root = ''
  let cacheDir = ''
  let runtime: RuntimeInfo
  const runners: Runner[] = []
  let seq = 0
  const hostEnv = process.env['PIP_FN_TEST_TOMLI']

  beforeAll(async () => {
    root = await mkdtemp(join(tmpdir(), 'fn-python-deps-'))
    cacheDir = join(root, '.cache')
    runtime = await python({ bin }).resolve()
    // Read by pip (requirements files expand ${VAR}); must never reach a function.
    process.env['PIP_FN_TEST_TOMLI'] = '2.0.1'
  })
  afterAll(async () => {
    if (hostEnv === undefined) delete process.env['PIP_FN_TEST_TOMLI']
    else process.env['PIP_FN_TEST_TOMLI'] = hostEnv
    await Promise.all(runners.map((r) => r.close()))
    await rm(root, { recursive: true, force: true })
  })

  /** A function folder with `files` (entry: main.py). */
  async function define(
    files: Record<string, string>,
    overrides: Partial<FunctionDefinition> = {},
  ): Promise<FunctionDefinition> {
    const dir = join(root, `fn-${++seq}`)
    for (const [file, content] of Object.entries(files)) {
      await mkdir(dirname(join(dir, file)), { recursive: true })
      await writeFile(join(dir, file), content)
    }
    const protocol = overrides.protocol ?? 'handler'
    return {
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
  }

  async function serve(adapter: PythonAdapter, fn: FunctionDefinition): Promise<Runner> {
    const runner = await createRunner(adapter, fn, { cacheDir })
    runners.push(runner)
    return runner
  }

  async function call<T>(runner: Runner): Promise<T> {
    const request: FnRequest = {
      request_id: `r-${++seq}`,
      function: runner.fn.name,
      input: {},
      context: {},
    }
    const out = await runner.invoke(request)
    expect(out.error).toBeUndefined()
    return out.output as T
  }

  const venvsDir = () => join(cacheDir, 'venvs')
  let handlerFn: FunctionDefinition
  let stdioFn: FunctionDefinition
  let sixVenv = ''

  it('installs requirements.txt once into a venv that functions with the same requirements share', async () => {
    const adapter = python({ bin })
    handlerFn = await define({ 'main.py': HANDLER, 'requirements.txt': SIX })
    stdioFn = await define({ 'main.py': STDIO, 'requirements.txt': SIX }, { protocol: 'stdio' })
    const ctx = { runtime, cacheDir }
    // At the same time: one install, the second caller waits for it.
    const [a, b] = await Promise.all([
      adapter.prepare(handlerFn, ctx),
      adapter.prepare(stdioFn, ctx),
    ])
    expect(adapter.installStats()).toEqual({ builds: 1, hits: 0 })
    expect(a.venv).toBeDefined()
    expect(b.venv).toEqual(a.venv)
    sixVenv = a.venv!.dir
    expect(sixVenv).toBe(join(venvsDir(), a.venv!.key))
    expect(a.venv!.python).toBe(join(sixVenv, 'bin', 'python'))
    expect(readdirSync(venvsDir())).toEqual([a.venv!.key])
    // Built in a temporary folder and renamed: nothing names the temporary folder any more.
    expect(readFileSync(join(sixVenv, 'pyvenv.cfg'), 'utf8')).not.toContain('.tmp-')
    expect(readdirSync(handlerFn.dir).sort()).toEqual(['main.py', 'requirements.txt'])

    for (const fn of [handlerFn, stdioFn]) {
      const report = await call<Report>(await serve(adapter, fn))
      expect(report).toMatchObject({
        six: '1.16.0',
        prefix: sixVenv,
        executable: join(sixVenv, 'bin', 'python'),
        virtual_env: sixVenv,
        path0: join(sixVenv, 'bin'),
      })
      expect(report.six_file.startsWith(join(sixVenv, 'lib'))).toBe(true)
      // The installer's environment never reaches the function.
      expect(
        report.env.filter((name) => /^PIP_|_PROXY$|_CA_BUNDLE$|^SSL_CERT/i.test(name)),
      ).toEqual([])
    }
    // createRunner prepared both again: found in the cache.
    expect(adapter.installStats()).toEqual({ builds: 1, hits: 2 })
  })

  it('reuses the venv from the cache folder on a fresh adapter (a restart)', async () => {
    // site: false (-S) would hide the venv's packages: never applied to a function with a venv.
    const adapter = python({ bin, site: false })
    const runner = await serve(adapter, handlerFn)
    expect(adapter.installStats()).toEqual({ builds: 0, hits: 1 })
    expect((await call<Report>(runner)).prefix).toBe(sixVenv)
  })

  it('installs again when requirements.txt changes; pip sees the host PIP_* settings', async () => {
    const adapter = python({ bin })
    const fn = await define({
      'main.py': [
        'import os, six, tomli',
        'def handler(input, ctx):',
        '    return [six.__version__, tomli.__version__, os.environ.get("PIP_FN_TEST_TOMLI")]',
        '',
      ].join('\n'),
      'requirements.txt': SIX,
    })
    const before = await adapter.prepare(fn, { runtime, cacheDir })
    expect(before.venv?.dir).toBe(sixVenv)
    await writeFile(join(fn.dir, 'requirements.txt'), `${SIX}tomli==\${PIP_FN_TEST_TOMLI}\n`)
    const runner = await serve(adapter, fn)
    expect(adapter.installStats()).toEqual({ builds: 1, hits: 1 })
    expect(await call(runner)).toEqual(['1.16.0', '2.0.1', null])
    expect(readdirSync(venvsDir())).toHaveLength(2)
  })

  it('runs functions without requirements.txt on the interpreter itself, with no venv', async () => {
    const adapter = python({ bin })
    const fn = await define({ 'main.py': 'def handler(input, ctx):\n    return 1\n' })
    const prepared = await adapter.prepare(fn, { runtime, cacheDir })
    expect(prepared.venv).toBeUndefined()
    const spec = adapter.launch(fn, { runtime, prepared, kind: 'worker' })
    expect(spec.command).toBe(runtime.bin)
    expect(spec.env['VIRTUAL_ENV']).toBeUndefined()
    expect(adapter.installStats()).toEqual({ builds: 0, hits: 0 })
  })

  it('fails with BUILD_FAILED carrying pip`s error when a package does not exist', async () => {
    const adapter = python({ bin })
    const fn = await define({
      'main.py': 'def handler(input, ctx):\n    return 1\n',
      'requirements.txt': 'fn-no-such-package-a7c3e1==1.0.0\n',
    })
    const error = await adapter.prepare(fn, { runtime, cacheDir }).catch((err: unknown) => err)
    expect(isFnError(error)).toBe(true)
    if (!isFnError(error)) return
    expect(error.code).toBe('BUILD_FAILED')
    expect(error.message).toMatch(
      new RegExp(
        `^\\[fn\\] pip install -r requirements.txt for function "${fn.name}" failed \\(exit code 1\\):`,
      ),
    )
    expect(error.message).toContain(
      'No matching distribution found for fn-no-such-package-a7c3e1==1.0.0',
    )
    // The half-built venv is gone; the next prepare tries again.
    expect(readdirSync(venvsDir()).some((name) => name.includes('.tmp-'))).toBe(false)
    await expect(adapter.prepare(fn, { runtime, cacheDir })).rejects.toThrow(
      /No matching distribution/,
    )
    expect(adapter.installStats()).toEqual({ builds: 2, hits: 0 })
  })

  it('gives up after installTimeoutMs with BUILD_FAILED', async () => {
    const adapter = python({ bin, installTimeoutMs: 1 })
    const fn = await define({
      'main.py': 'def handler(input, ctx):\n    return 1\n',
      'requirements.txt': 'tomli\n',
    })
    await expect(adapter.prepare(fn, { runtime, cacheDir })).rejects.toMatchObject({
      code: 'BUILD_FAILED',
      message: expect.stringContaining('did not finish within 1 ms'),
    })
  })

  it('keys venvs by requirement files, interpreter and install settings, not by other files', async () => {
    const builder = (options: PythonOptions = {}) =>
      new VenvBuilder({
        installArgs: options.installArgs ?? [],
        installEnv: options.installEnv ?? {},
        timeoutMs: 1000,
        pipCacheDir: undefined,
      })
    const plain = builder()
    const files = {
      'main.py': 'x = 1\n',
      'requirements.txt': 'six\n-c constraints.txt\n',
      'constraints.txt': 'six<2\n',
    }
    const a = await define(files)
    const b = await define(files)
    const key = await plain.key(a, runtime)
    expect(await plain.key(b, runtime)).toBe(key)
    await writeFile(join(b.dir, 'main.py'), 'x = 2\n')
    expect(await plain.key(b, runtime)).toBe(key)
    await writeFile(join(b.dir, 'constraints.txt'), 'six<1.16\n')
    expect(await plain.key(b, runtime)).not.toBe(key)
    expect(await plain.key(a, { ...runtime, version: '3.99.0' })).not.toBe(key)
    expect(await plain.key(a, { ...runtime, bin: '/opt/other/python3' })).not.toBe(key)
    expect(await builder({ installArgs: ['--pre'] }).key(a, runtime)).not.toBe(key)
    expect(
      await builder({ installEnv: { PIP_INDEX_URL: 'https://x.test/simple' } }).key(a, runtime),
    ).not.toBe(key)
    // A local package: its content is part of the key, so is its folder (never shared by accident).
    await writeFile(join(a.dir, 'requirements.txt'), './lib\n')
    await writeFile(join(b.dir, 'requirements.txt'), './lib\n')
    await mkdir(join(a.dir, 'lib'))
    await writeFile(join(a.dir, 'lib', 'pyproject.toml'), '[project]\nname = "lib"\n')
    const local = await plain.key(a, runtime)
    expect(await plain.key(b, runtime)).not.toBe(local)
    await writeFile(join(a.dir, 'lib', 'lib.py'), 'y = 1\n')
    expect(await plain.key(a, runtime)).not.toBe(local)
  })

  it('without pip in the base interpreter, bootstraps pip into the venv (ensurepip)', {
    timeout: 180_000,
  }, async () => {
    const base = join(root, 'base-without-pip')
    execFileSync(bin, ['-m', 'venv', '--without-pip', base])
    const baseBin = join(base, 'bin', 'python')
    const adapter = python({ bin: baseBin })
    const fn = await define({ 'main.py': HANDLER, 'requirements.txt': SIX })
    const runner = await serve(adapter, fn)
    expect(adapter.installStats()).toEqual({ builds: 1, hits: 0 })
    const report = await call<Report>(runner)
    expect(report.six).toBe('1.16.0')
    expect(report.prefix).not.toBe(sixVenv)
    // pip's own console script, written in the temporary folder, runs from the final one.
    const pip = join(report.prefix, 'bin', 'pip')
    expect(existsSync(pip)).toBe(true)
    expect((await readFile(pip, 'utf8')).split('\n')[0]).toMatch(
      new RegExp(`^#!${report.prefix}/bin/python[0-9.]*$`),
    )
    const version = execFileSync(pip, ['--version'], {
      encoding: 'utf8',
      env: { PATH: '/usr/bin:/bin' },
    })
    expect(version).toContain(join(report.prefix, 'lib'))
  })
})
