// Hot reload and builds on the real runtimes: edit-and-call in every language, atomic swaps under
// load, a broken edit that keeps the last good version serving, and fn.yaml builds.
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { bun } from '@fn/runtime-bun'
import type { RuntimeAdapter } from '@fn/runtime-core'
import { deno } from '@fn/runtime-deno'
import { go } from '@fn/runtime-go'
import { node } from '@fn/runtime-node'
import { python } from '@fn/runtime-python'
import type { RuntimeName } from '@fn/tooling/runtimes'
import { describeRuntime } from '@fn/tooling/runtimes'
import { afterAll, beforeAll, expect, it } from 'vitest'
import { eventually } from '../test/eventually'
import { createExecutor, type Executor } from './index'

/** A handler returning `value`, and a broken version of it, per language. */
const SOURCES: Record<
  RuntimeName,
  { entry: string; files?: Record<string, string>; ok: (v: string) => string; broken: string }
> = {
  node: {
    entry: 'index.mjs',
    ok: (v) => `export default () => '${v}'\n`,
    broken: 'export default () => {\n',
  },
  deno: {
    entry: 'index.ts',
    files: { 'deno.json': '{}' },
    ok: (v) => `export default (): string => '${v}'\n`,
    broken: 'export default () => {\n',
  },
  bun: {
    entry: 'index.ts',
    files: { 'bunfig.toml': '' },
    ok: (v) => `export default (): string => '${v}'\n`,
    broken: 'export default () => {\n',
  },
  python: {
    entry: 'main.py',
    ok: (v) => `def handler(input, ctx):\n    return '${v}'\n`,
    broken: 'def handler(:\n',
  },
  go: {
    entry: 'main.go',
    ok: (v) =>
      `package main\n\nimport "context"\n\nfunc Handler(ctx context.Context) (string, error) { return "${v}", nil }\n`,
    broken: 'package main\n\nfunc Handler( {\n',
  },
}

const ADAPTERS: Record<RuntimeName, (bin: string) => RuntimeAdapter> = {
  node: (bin) => node({ bin }),
  deno: (bin) => deno({ bin }),
  bun: (bin) => bun({ bin }),
  python: (bin) => python({ bin }),
  go: (bin) => go({ bin }) as RuntimeAdapter,
}

for (const runtime of Object.keys(SOURCES) as RuntimeName[]) {
  describeRuntime(runtime, 'hot reload', (bin) => {
    const src = SOURCES[runtime]
    let dir: string
    let ex: Executor
    const write = async (name: string, content: string) => {
      await mkdir(join(dir, name), { recursive: true })
      for (const [f, c] of Object.entries(src.files ?? {})) await writeFile(join(dir, name, f), c)
      await writeFile(join(dir, name, src.entry), content)
    }
    beforeAll(async () => {
      dir = await mkdtemp(join(tmpdir(), `fn-reload-${runtime}-`))
      await write('fn', src.ok('v1'))
      ex = createExecutor({ dir, runtimes: [ADAPTERS[runtime](bin)], cacheDir: `${dir}-cache` })
      await ex.start()
      await ex.watch({ debounceMs: 30 })
    })
    afterAll(async () => {
      await ex.close()
      await rm(dir, { recursive: true, force: true })
      await rm(`${dir}-cache`, { recursive: true, force: true })
    })

    it('serves an edit on the next call, warm, without a restart', async () => {
      expect((await ex.invoke('fn', {})).output).toBe('v1')
      await write('fn', src.ok('v2'))
      await eventually(async () => expect((await ex.invoke('fn', {})).output).toBe('v2'))
    })

    it('keeps calls succeeding across a swap', async () => {
      const calls: Array<Promise<{ success: boolean; output?: unknown }>> = []
      const load = setInterval(() => calls.push(ex.invoke('fn', {})), 5)
      await write('fn', src.ok('v3'))
      await eventually(async () => expect((await ex.invoke('fn', {})).output).toBe('v3'))
      clearInterval(load)
      // A worker the old version's pool started under this load reads the new file, so 'v3' can
      // answer before the swap: let the reload finish before the next test edits again.
      await ex.reload()
      const results = await Promise.all(calls)
      expect(results.length).toBeGreaterThan(0)
      expect(results.filter((r) => !r.success)).toEqual([])
      for (const r of results) expect(['v2', 'v3']).toContain(r.output)
    })

    it('keeps the last good version serving through a broken edit, and recovers', async () => {
      await write('fn', src.broken)
      await eventually(async () => expect(ex.get('fn')?.status).toBe('stale'), 60_000)
      expect(ex.get('fn')?.error?.code).toBe('BUILD_FAILED')
      expect((await ex.invoke('fn', {})).output).toBe('v3')
      await write('fn', src.ok('v4'))
      await eventually(async () => expect((await ex.invoke('fn', {})).output).toBe('v4'))
      expect(ex.get('fn')?.status).toBe('ready')
    })

    it('adds and removes functions', async () => {
      await write('other', src.ok('other'))
      await eventually(async () => expect((await ex.invoke('other', {})).output).toBe('other'))
      await rm(join(dir, 'other'), { recursive: true })
      await eventually(async () =>
        expect((await ex.invoke('other', {})).error?.code).toBe('FUNCTION_NOT_FOUND'),
      )
    })
  })
}

describeRuntime('node', 'fn.yaml build', (bin) => {
  let dir: string
  let ex: Executor
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'fn-build-'))
    await mkdir(join(dir, 'built', 'src'), { recursive: true })
    await writeFile(join(dir, 'built', 'src', 'greeting.txt'), 'hello')
    // A build that generates the entry from a source file, as a compiler would.
    await writeFile(
      join(dir, 'built', 'build.mjs'),
      `import { mkdirSync, readFileSync, writeFileSync } from 'node:fs'
const text = readFileSync('src/greeting.txt', 'utf8').trim()
if (text === 'fail') { console.error('build.mjs: refusing to build "fail"'); process.exit(3) }
mkdirSync('dist', { recursive: true })
writeFileSync('dist/index.mjs', 'export default () => ' + JSON.stringify(text) + '\\n')
`,
    )
    await writeFile(
      join(dir, 'built', 'fn.yaml'),
      `entry: dist/index.mjs\nbuild:\n  command: ${bin}\n  args: [build.mjs]\n  watch: ['src/**', build.mjs]\n  output: dist\n`,
    )
    ex = createExecutor({ dir, runtimes: [node({ bin })], cacheDir: `${dir}-cache` })
    await ex.start()
    await ex.watch({ debounceMs: 30 })
  })
  afterAll(async () => {
    await ex.close()
    await rm(dir, { recursive: true, force: true })
    await rm(`${dir}-cache`, { recursive: true, force: true })
  })

  it('builds before first use and serves the build output', async () => {
    expect(ex.problems()).toEqual([])
    expect((await ex.invoke('built', {})).output).toBe('hello')
  })

  it('rebuilds on change, and a failing build keeps the last good version with the build log', async () => {
    await writeFile(join(dir, 'built', 'src', 'greeting.txt'), 'bonjour')
    await eventually(async () => expect((await ex.invoke('built', {})).output).toBe('bonjour'))
    await writeFile(join(dir, 'built', 'src', 'greeting.txt'), 'fail')
    await eventually(async () => expect(ex.get('built')?.status).toBe('stale'))
    expect(ex.get('built')?.error).toMatchObject({
      code: 'BUILD_FAILED',
      message: expect.stringContaining('refusing to build'),
    })
    expect((await ex.invoke('built', {})).output).toBe('bonjour')
  })
})

describeRuntime('node', 'dependency changes', (bin) => {
  let dir: string
  let ex: Executor
  const pkg = (deps: Record<string, string>) =>
    JSON.stringify({ type: 'module', dependencies: deps })
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'fn-deps-'))
    await mkdir(join(dir, 'dep'))
    await writeFile(join(dir, 'dep', 'package.json'), pkg({ 'is-number': '7.0.0' }))
    await writeFile(
      join(dir, 'dep', 'index.mjs'),
      "import isNumber from 'is-number'\nexport default (input) => ({ isNumber: isNumber(input) })\n",
    )
    ex = createExecutor({ dir, runtimes: [node({ bin })], cacheDir: `${dir}-cache` })
    await ex.start()
    await ex.watch({ debounceMs: 30 })
  }, 120_000)
  afterAll(async () => {
    await ex.close()
    await rm(dir, { recursive: true, force: true })
    await rm(`${dir}-cache`, { recursive: true, force: true })
  })

  it('installs at start, and reinstalls when package.json changes', async () => {
    expect((await ex.invoke('dep', 5)).output).toEqual({ isNumber: true })
    await writeFile(join(dir, 'dep', 'package.json'), pkg({ 'is-number': '7.0.0', ms: '2.1.3' }))
    await writeFile(
      join(dir, 'dep', 'index.mjs'),
      "import ms from 'ms'\nexport default (input) => ({ ms: ms(input) })\n",
    )
    await eventually(
      async () => expect((await ex.invoke('dep', '2h')).output).toEqual({ ms: 7_200_000 }),
      90_000,
    )
    expect(ex.get('dep')?.status).toBe('ready')
  }, 120_000)
})
