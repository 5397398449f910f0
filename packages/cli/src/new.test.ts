/** `fn new <name> --runtime X` scaffolds a function that `fn invoke` runs at once, per runtime. */
import { readdir, readFile } from 'node:fs/promises'
import { join } from 'node:path'
import { describeRuntime, RUNTIMES } from '@fn/tooling/runtimes'
import { afterAll, beforeAll, expect, it } from 'vitest'
import { fn, json, project } from '../test/helpers'

const FILES: Record<string, string[]> = {
  node: ['fn.yaml', 'index.mjs'],
  deno: ['deno.json', 'fn.yaml', 'index.ts'],
  bun: ['bunfig.toml', 'fn.yaml', 'index.ts'],
  python: ['fn.yaml', 'main.py'],
  go: ['fn.yaml', 'go.mod', 'main.go'],
}

for (const runtime of RUNTIMES) {
  describeRuntime(runtime, 'fn new then fn invoke', () => {
    let p: Awaited<ReturnType<typeof project>>
    const name = `hello-${runtime}`
    beforeAll(async () => {
      p = await project()
    })
    afterAll(() => p.cleanup())

    it('scaffolds the files of the runtime', async () => {
      const run = await fn(['new', name, '--runtime', runtime, '--json'], { cwd: p.root })
      expect(run.code).toBe(0)
      expect(json(run)).toEqual({
        name,
        runtime,
        dir: join(p.functions, name),
        files: FILES[runtime],
      })
      expect((await readdir(join(p.functions, name))).sort()).toEqual(FILES[runtime])
      const manifest = await readFile(join(p.functions, name, 'fn.yaml'), 'utf8')
      expect(manifest).toContain(`runtime: ${runtime}`)
    })

    it('passes fn invoke as written, with the sample input and with --input', async () => {
      const sample = await fn(['invoke', name], { cwd: p.root, timeoutMs: 120_000 })
      expect(sample.code, sample.stdout + sample.stderr).toBe(0)
      expect(json(sample)).toMatchObject({
        success: true,
        output: { message: 'Hello, fn!', runtime },
      })
      const given = await fn(['invoke', name, '--input', '{"name":"you"}'], { cwd: p.root })
      expect(given.code).toBe(0)
      expect(json(given)).toMatchObject({ output: { message: 'Hello, you!' } })
    }, 150_000)

    it('is listed ready by fn list and built by fn build', async () => {
      const list = await fn(['list', '--json'], { cwd: p.root, timeoutMs: 120_000 })
      expect(json(list)).toEqual([
        expect.objectContaining({ name, runtime, protocol: 'handler', status: 'ready' }),
      ])
      const build = await fn(['build', '--json'], { cwd: p.root, timeoutMs: 120_000 })
      expect(build.code).toBe(0)
      expect(json(build)).toEqual({ ok: true, functions: [{ name, runtime, status: 'ok' }] })
    }, 150_000)
  })
}

describeRuntime('node', 'fn new human output', () => {
  let p: Awaited<ReturnType<typeof project>>
  beforeAll(async () => {
    p = await project()
  })
  afterAll(() => p.cleanup())

  it('says what it created and how to try it, into --dir when given', async () => {
    const run = await fn(['new', 'greeter', '--runtime', 'node', '--dir', 'api'], { cwd: p.root })
    expect(run.code).toBe(0)
    expect(run.stdout).toContain('created greeter (node) in api/greeter')
    expect(run.stdout).toContain(`fn invoke greeter --dir api --input '{"name":"you"}'`)
    const invoked = await fn(['invoke', 'greeter', '--dir', 'api'], { cwd: p.root })
    expect(invoked.code).toBe(0)
  })
})
