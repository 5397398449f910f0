import { availableParallelism } from 'node:os'
import { join } from 'node:path'
import { isFnError } from '@fn/protocol'
import { afterEach, describe, expect, it } from 'vitest'
import { ManifestError } from './errors'
import { loadFunction } from './load'
import { rejection, tree } from './test-utils'
import type { FunctionDefinition } from './types'

describe('loadFunction', () => {
  it('fills every default for a folder with only an entry', async () => {
    const root = await tree({ 'hello/index.ts': '', 'hello/deno.json': '{}' })
    const dir = join(root, 'hello')
    expect(await loadFunction(dir, { hostEnv: {} })).toStrictEqual({
      name: 'hello',
      dir,
      entry: join(dir, 'index.ts'),
      entryRelative: 'index.ts',
      runtime: 'deno',
      protocol: 'handler',
      mode: 'warm',
      timeoutMs: 30_000,
      pool: {
        min: 0,
        max: availableParallelism(),
        idleTimeoutMs: 60_000,
        maxRequests: 0,
        concurrency: 1,
      },
      env: {},
      permissions: { net: false, read: false, write: false, env: false, run: false },
    } satisfies FunctionDefinition)
  })

  it('applies every fn.yaml field and resolves env from hostEnv', async () => {
    const root = await tree({
      'image/src/app.py': '',
      'image/fn.yaml': `
name: resize-image
description: Resizes images.
entry: src/app.py
protocol: stdio
timeout: 5s
memory: 256mb
concurrency: 3
pool: { idle_timeout: 2m }
env:
  API_KEY: \${KEY}
  LEVEL: \${LEVEL:-info}
permissions:
  net: [api.example.com]
build:
  command: make
sample_input: { width: 10 }
routes: [POST /resize]
`,
    })
    const dir = join(root, 'image')
    const fn = await loadFunction(dir, { hostEnv: { KEY: 'secret', UNUSED: 'x' } })
    expect(fn).toStrictEqual({
      name: 'resize-image',
      dir,
      entry: join(dir, 'src/app.py'),
      entryRelative: 'src/app.py',
      runtime: 'python',
      protocol: 'stdio',
      mode: 'oneshot',
      timeoutMs: 5000,
      memoryMb: 256,
      concurrency: 3,
      pool: {
        min: 0,
        max: availableParallelism(),
        idleTimeoutMs: 120_000,
        maxRequests: 0,
        concurrency: 1,
      },
      env: { API_KEY: 'secret', LEVEL: 'info' },
      permissions: { net: ['api.example.com'], read: false, write: false, env: false, run: false },
      build: { command: 'make', args: [], watch: [] },
      description: 'Resizes images.',
      sampleInput: { width: 10 },
      routes: [{ method: 'POST', path: '/resize' }],
      manifestFile: join(dir, 'fn.yaml'),
    })
  })

  it('keeps a null sample_input', async () => {
    const root = await tree({ 'a/main.go': '', 'a/fn.yaml': 'sample_input: null\n' })
    const fn = await loadFunction(join(root, 'a'))
    expect('sampleInput' in fn).toBe(true)
    expect(fn.sampleInput).toBeNull()
  })

  it('lets fn.yaml runtime win over detection', async () => {
    const root = await tree({
      'a/index.ts': '',
      'a/deno.json': '{}',
      'a/fn.yaml': 'runtime: bun\n',
    })
    expect((await loadFunction(join(root, 'a'))).runtime).toBe('bun')
  })

  it('uses options.defaults.timeoutMs unless fn.yaml sets a timeout', async () => {
    const root = await tree({ 'a/main.py': '', 'b/main.py': '', 'b/fn.yaml': 'timeout: 2s\n' })
    expect((await loadFunction(join(root, 'a'), { defaults: { timeoutMs: 900 } })).timeoutMs).toBe(
      900,
    )
    expect((await loadFunction(join(root, 'b'), { defaults: { timeoutMs: 900 } })).timeoutMs).toBe(
      2000,
    )
  })

  it('passes defaultRuntime and extensions on to detection', async () => {
    const root = await tree({ 'a/index.ts': '', 'b/main.rb': '' })
    expect((await loadFunction(join(root, 'a'), { defaultRuntime: 'node' })).runtime).toBe('node')
    const ruby = await loadFunction(join(root, 'b'), { extensions: { '.rb': 'ruby' } })
    expect(ruby).toMatchObject({ runtime: 'ruby', entryRelative: 'main.rb' })
  })

  describe('env', () => {
    const VAR = 'FN_MANIFEST_TEST_VALUE'
    afterEach(() => {
      delete process.env[VAR]
    })

    it('reads process.env by default', async () => {
      process.env[VAR] = 'from-process'
      const root = await tree({ 'a/main.py': '', 'a/fn.yaml': `env:\n  X: \${${VAR}}\n` })
      expect((await loadFunction(join(root, 'a'))).env).toEqual({ X: 'from-process' })
    })

    it('fails naming the missing variable and where fn.yaml reads it', async () => {
      const root = await tree({ 'a/main.py': '', 'a/fn.yaml': `name: a\nenv:\n  X: \${${VAR}}\n` })
      const file = join(root, 'a/fn.yaml')
      const error = await rejection(loadFunction(join(root, 'a')))
      expect(error).toBeInstanceOf(ManifestError)
      expect(error.message).toBe(
        `[fn] environment variable "${VAR}" is not set at ${file}:3:6: env.X reads "\${${VAR}}": set ${VAR} in the host environment, or give a fallback with "\${${VAR}:-value}"`,
      )
    })
  })

  it('rejects a folder name that is not a valid function name unless fn.yaml names it', async () => {
    const root = await tree({
      'Hello World/main.py': '',
      'My_Fn/main.py': '',
      'My_Fn/fn.yaml': 'name: my_fn\n',
    })
    const dir = join(root, 'Hello World')
    const error = await rejection(loadFunction(dir))
    expect(error).toBeInstanceOf(ManifestError)
    expect(error.message).toBe(
      `[fn] folder name "Hello World" is not a valid function name at ${dir}: expected a name of 1 to 63 characters: a lowercase letter, then lowercase letters, digits, "-" or "_": rename the folder, or set name: in fn.yaml`,
    )
    expect((await loadFunction(join(root, 'My_Fn'))).name).toBe('my_fn')
  })

  it('throws the ManifestError of an invalid fn.yaml, naming the file', async () => {
    const root = await tree({ 'a/main.py': '', 'a/fn.yaml': 'timeout: 30x\n' })
    const file = join(root, 'a/fn.yaml')
    const error = await rejection(loadFunction(join(root, 'a')))
    expect(error).toBeInstanceOf(ManifestError)
    expect(error.file).toBe(file)
    expect(error.message).toContain(`invalid value for "timeout" at ${file}:1:10:`)
  })

  it('asks to rename fn.yml instead of ignoring it', async () => {
    const root = await tree({ 'a/main.py': '', 'a/fn.yml': 'timeout: 1s\n' })
    const error = await rejection(loadFunction(join(root, 'a')))
    expect(error.message).toBe(
      `[fn] manifest named fn.yml at ${join(root, 'a/fn.yml')}: fn reads fn.yaml: rename the file to fn.yaml`,
    )
  })

  it('rejects a missing folder with FUNCTION_NOT_FOUND', async () => {
    const root = await tree()
    const error = await rejection(loadFunction(join(root, 'nope')))
    expect(isFnError(error)).toBe(true)
    expect(error.code).toBe('FUNCTION_NOT_FOUND')
  })
})
