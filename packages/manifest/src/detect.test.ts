import { join } from 'node:path'
import { isFnError } from '@fn/protocol'
import { describe, expect, it } from 'vitest'
import { detectEntry, detectRuntime, entryCandidates } from './detect'
import { ManifestError } from './errors'
import { parseManifest } from './parse'
import { rejection, tree } from './test-utils'

describe('entryCandidates', () => {
  it('tries index.*, main.*, mod.ts, handler.* with the built-in extensions, then the option ones', () => {
    const exts = ['.ts', '.tsx', '.js', '.mjs', '.cjs', '.py', '.go']
    expect(entryCandidates()).toEqual([
      ...exts.map((e) => `index${e}`),
      ...exts.map((e) => `main${e}`),
      'mod.ts',
      ...exts.map((e) => `handler${e}`),
    ])
    const withRuby = entryCandidates({ extensions: { rb: 'ruby', '.PY': 'pypy' } })
    expect(withRuby.slice(0, 8)).toEqual([...exts.map((e) => `index${e}`), 'index.rb'])
    expect(withRuby.filter((name) => name.endsWith('.py'))).toHaveLength(3)
  })
})

describe('detectEntry', () => {
  it.each([
    [['index.ts', 'index.js', 'main.ts'], 'index.ts'],
    [['index.js', 'index.tsx'], 'index.tsx'],
    [['index.cjs', 'index.mjs'], 'index.mjs'],
    [['main.go', 'handler.ts'], 'main.go'],
    [['main.py', 'index.py'], 'index.py'],
    [['mod.ts', 'handler.js', 'helper.ts'], 'mod.ts'],
    [['handler.py', 'util.py'], 'handler.py'],
  ])('in a folder with %j picks %s', async (files, expected) => {
    const dir = await tree(Object.fromEntries(files.map((f) => [f, ''])))
    expect(await detectEntry(dir)).toBe(join(dir, expected))
  })

  it('tries the extensions given in options after the built-in ones', async () => {
    const dir = await tree({ 'main.rb': '', 'handler.js': '' })
    expect(await detectEntry(dir, {}, { extensions: { '.rb': 'ruby' } })).toBe(join(dir, 'main.rb'))
    expect(await detectEntry(dir)).toBe(join(dir, 'handler.js'))
  })

  it('skips folders and dangling links that carry an entry name', async () => {
    const dir = await tree({
      'index.ts': { dir: true },
      'index.js': { link: 'missing.js' },
      'main.py': '',
    })
    expect(await detectEntry(dir)).toBe(join(dir, 'main.py'))
  })

  it('accepts a link to a file inside the folder', async () => {
    const dir = await tree({ 'src/real.ts': '', 'index.ts': { link: 'src/real.ts' } })
    expect(await detectEntry(dir)).toBe(join(dir, 'index.ts'))
  })

  it('reports a folder without an entry, listing what it looked for', async () => {
    const dir = await tree({ 'README.md': '', 'util.ts': '' })
    const error = await rejection(detectEntry(dir))
    expect(error).toBeInstanceOf(ManifestError)
    expect(error.message).toBe(
      `[fn] no entry file found in ${dir} at ${dir}: expected index.*, main.*, mod.ts or handler.* with extension .ts, .tsx, .js, .mjs, .cjs, .py or .go: create one, or name the file with entry: in fn.yaml`,
    )
    expect(error.issues).toMatchObject([{ path: 'entry', file: dir }])
  })

  it('names option extensions in that message too', async () => {
    const dir = await tree()
    const error = await rejection(detectEntry(dir, undefined, { extensions: { '.rb': 'ruby' } }))
    expect(error.message).toContain('with extension .ts, .tsx, .js, .mjs, .cjs, .py, .go or .rb:')
  })

  it('rejects a folder that does not exist with FUNCTION_NOT_FOUND', async () => {
    const dir = await tree({ 'file.txt': '' })
    for (const missing of [join(dir, 'nope'), join(dir, 'file.txt')]) {
      const error = await rejection(detectEntry(missing))
      expect(isFnError(error)).toBe(true)
      expect(error.code).toBe('FUNCTION_NOT_FOUND')
      expect(error.message).toBe(
        `[fn] function folder ${missing} does not exist or is not a folder`,
      )
    }
  })

  describe('with entry: in fn.yaml', () => {
    it('uses it, even when an index file exists', async () => {
      const dir = await tree({ 'index.ts': '', 'src/app.ts': '' })
      expect(await detectEntry(dir, { entry: 'src/app.ts' })).toBe(join(dir, 'src/app.ts'))
      expect(await detectEntry(dir, { entry: './src/../src/app.ts' })).toBe(join(dir, 'src/app.ts'))
    })

    it('accepts an entry the fn.yaml build has yet to produce, inside build.output only', async () => {
      const dir = await tree({ 'src/app.ts': '' })
      const build = { command: 'tsc', args: [], watch: [], output: 'dist' }
      expect(await detectEntry(dir, { entry: 'dist/app.js', build })).toBe(join(dir, 'dist/app.js'))
      await expect(detectEntry(dir, { entry: 'lib/app.js', build })).rejects.toBeInstanceOf(
        ManifestError,
      )
      await expect(detectEntry(dir, { entry: 'dist/app.js' })).rejects.toBeInstanceOf(ManifestError)
    })

    it('reports a missing entry at its position in fn.yaml', async () => {
      const dir = await tree({ 'index.ts': '' })
      const file = join(dir, 'fn.yaml')
      const manifest = parseManifest('name: hello\nentry: src/nope.ts\n', file)
      const error = await rejection(detectEntry(dir, manifest))
      expect(error).toBeInstanceOf(ManifestError)
      expect(error.message).toBe(
        `[fn] entry "src/nope.ts" not found at ${file}:2:8: no such file in ${dir}: fix entry: in fn.yaml or create the file`,
      )
      expect(error.issues).toMatchObject([{ file, line: 2, column: 8, path: 'entry' }])
    })

    it('reports an entry that is a folder', async () => {
      const dir = await tree({ 'src/index.ts': '' })
      const error = await rejection(detectEntry(dir, { entry: 'src' }))
      expect(error.message).toBe(
        `[fn] entry "src" is not a file at ${dir}: entry: names the file that holds the function`,
      )
    })
  })

  describe('rejects entries outside the function folder', () => {
    it('climbing out with ..', async () => {
      const root = await tree({ 'secret.ts': '', 'fn/index.ts': '' })
      const dir = join(root, 'fn')
      const error = await rejection(detectEntry(dir, { entry: '../secret.ts' }))
      expect(error).toBeInstanceOf(ManifestError)
      expect(error.message).toBe(
        `[fn] invalid value for "entry" at ${dir}: expected a path relative to the function folder that stays inside it (no absolute path, no ".."), found "../secret.ts"`,
      )
    })

    it('given as an absolute path, even one inside the folder', async () => {
      const dir = await tree({ 'index.ts': '' })
      for (const entry of [join(dir, 'index.ts'), '/etc/passwd']) {
        const error = await rejection(detectEntry(dir, { entry }))
        expect(error.message).toContain(`found ${JSON.stringify(entry)}`)
      }
    })

    it('through a symlinked index file', async () => {
      const root = await tree({ 'secret.ts': 'x', 'fn/index.ts': { link: '../secret.ts' } })
      const dir = join(root, 'fn')
      const error = await rejection(detectEntry(dir))
      expect(error).toBeInstanceOf(ManifestError)
      expect(error.message).toBe(
        `[fn] entry "index.ts" resolves outside the function folder at ${dir}: it is a link to ${join(root, 'secret.ts')}; the entry must live inside ${dir}`,
      )
    })

    it('through a symlinked folder named in entry:', async () => {
      const root = await tree({
        'outside/app.ts': '',
        'fn/index.ts': '',
        'fn/src': { link: '../outside' },
      })
      const dir = join(root, 'fn')
      const file = join(dir, 'fn.yaml')
      const manifest = parseManifest('entry: src/app.ts\n', file)
      const error = await rejection(detectEntry(dir, manifest))
      expect(error.message).toBe(
        `[fn] entry "src/app.ts" resolves outside the function folder at ${file}:1:8: it is a link to ${join(root, 'outside/app.ts')}; the entry must live inside ${dir}`,
      )
    })

    it('but allows a function folder that is itself reached through a link', async () => {
      const root = await tree({ 'real/index.ts': '', linked: { link: 'real' } })
      expect(await detectEntry(join(root, 'linked'))).toBe(join(root, 'linked/index.ts'))
    })
  })
})

describe('detectRuntime', () => {
  it.each([
    ['main.py', 'python'],
    ['main.go', 'go'],
    ['index.js', 'node'],
    ['index.mjs', 'node'],
    ['index.cjs', 'node'],
    ['INDEX.JS', 'node'],
  ])('%s runs on %s', async (entry, runtime) => {
    const dir = await tree({ [entry]: '' })
    expect(await detectRuntime(join(dir, entry), dir)).toBe(runtime)
  })

  it.each([
    [{ 'deno.json': '{}' }, 'deno'],
    [{ 'deno.jsonc': '{}' }, 'deno'],
    [{ 'bunfig.toml': '' }, 'bun'],
    [{ 'bun.lock': '' }, 'bun'],
    [{ 'bun.lockb': '' }, 'bun'],
    [{ 'package.json': '{"type":"module"}' }, 'node'],
    [{ 'package.json': '{"type":"commonjs"}' }, 'node'],
    [{ 'package.json': '{"engines":{"node":">=20"}}' }, 'node'],
    [{ 'package.json': '{"devDependencies":{"@types/node":"^20"}}' }, 'node'],
    [{ 'package.json': '{"dependencies":{"tsx":"^4"}}' }, 'node'],
    [{ 'package.json': '{"type":"module"}', 'deno.json': '{}' }, 'deno'],
    [{ 'package.json': '{"type":"module"}', 'bun.lock': '' }, 'bun'],
  ])('a .ts entry beside %j runs on %s', async (files, runtime) => {
    const dir = await tree({ 'index.ts': '', ...files })
    expect(await detectRuntime(join(dir, 'index.ts'), dir)).toBe(runtime)
    expect(await detectRuntime('index.ts', dir)).toBe(runtime)
  })

  it('treats .tsx like .ts', async () => {
    const dir = await tree({ 'index.tsx': '', 'deno.json': '{}' })
    expect(await detectRuntime(join(dir, 'index.tsx'), dir)).toBe('deno')
  })

  it('looks beside the entry first, then up to the function folder, never above it', async () => {
    const root = await tree({
      'deno.json': '{}',
      'fn/package.json': '{"type":"module"}',
      'fn/src/bunfig.toml': '',
      'fn/src/index.ts': '',
      'fn/lib/index.ts': '',
      'plain/index.ts': '',
    })
    expect(await detectRuntime(join(root, 'fn/src/index.ts'), join(root, 'fn'))).toBe('bun')
    expect(await detectRuntime(join(root, 'fn/lib/index.ts'), join(root, 'fn'))).toBe('node')
    await expect(detectRuntime(join(root, 'plain/index.ts'), join(root, 'plain'))).rejects.toThrow(
      'cannot tell which runtime runs "index.ts"',
    )
  })

  it('names the choices and how to settle them when a .ts entry is ambiguous', async () => {
    const dir = await tree({ 'index.ts': '', 'package.json': '{"name":"x"}' })
    const error = await rejection(detectRuntime(join(dir, 'index.ts'), dir))
    expect(error).toBeInstanceOf(ManifestError)
    expect(error.code).toBe('INVALID_MANIFEST')
    expect(error.message).toBe(
      `[fn] cannot tell which runtime runs "index.ts" at ${dir}: a TypeScript entry runs on deno, bun or node, and no deno.json, deno.jsonc, bunfig.toml, bun.lock or package.json saying node is beside it: settle it with "runtime: deno" (or bun, node) in fn.yaml, or with a default runtime for TypeScript on the executor (defaultRuntime)`,
    )
    expect(error.issues).toMatchObject([{ path: 'runtime', file: dir }])
  })

  it('treats an unreadable package.json as saying nothing', async () => {
    const dir = await tree({ 'index.ts': '', 'package.json': '{ not json' })
    await expect(detectRuntime(join(dir, 'index.ts'), dir)).rejects.toThrow(
      'cannot tell which runtime',
    )
  })

  it('reports deno and bun markers side by side as ambiguous', async () => {
    const dir = await tree({ 'index.ts': '', 'deno.jsonc': '{}', 'bun.lock': '' })
    await expect(detectRuntime(join(dir, 'index.ts'), dir)).rejects.toThrow(
      'a TypeScript entry runs on deno, bun or node, and both deno.jsonc and bun.lock are beside it: settle it with',
    )
  })

  it('settles the ambiguous case with defaultRuntime', async () => {
    const dir = await tree({ 'index.ts': '', 'deno.json': '{}', 'bunfig.toml': '' })
    expect(await detectRuntime(join(dir, 'index.ts'), dir, { defaultRuntime: 'bun' })).toBe('bun')
    const bare = await tree({ 'index.ts': '' })
    expect(await detectRuntime(join(bare, 'index.ts'), bare, { defaultRuntime: 'node' })).toBe(
      'node',
    )
  })

  it('does not use defaultRuntime when a marker decides', async () => {
    const dir = await tree({ 'index.ts': '', 'deno.json': '{}' })
    expect(await detectRuntime(join(dir, 'index.ts'), dir, { defaultRuntime: 'bun' })).toBe('deno')
  })

  it('maps extra extensions, which may also override the built-in rules', async () => {
    const dir = await tree({ 'main.rb': '', 'index.ts': '', 'index.js': '' })
    const extensions = { '.rb': 'ruby', ts: 'deno', '.JS': 'bun' }
    expect(await detectRuntime(join(dir, 'main.rb'), dir, { extensions })).toBe('ruby')
    expect(await detectRuntime(join(dir, 'index.ts'), dir, { extensions })).toBe('deno')
    expect(await detectRuntime(join(dir, 'index.js'), dir, { extensions })).toBe('bun')
  })

  it('reports an extension no runtime claims', async () => {
    const dir = await tree({ 'main.rb': '', run: '' })
    const error = await rejection(detectRuntime(join(dir, 'main.rb'), dir))
    expect(error.message).toBe(
      `[fn] cannot tell the runtime of entry "main.rb" at ${dir}: the extension ".rb" is not one of .js, .mjs, .cjs, .py, .go, .ts, .tsx: set runtime: in fn.yaml, or map the extension to a runtime with the extensions option`,
    )
    await expect(detectRuntime(join(dir, 'run'), dir)).rejects.toThrow(
      'the extension "(none)" is not one of',
    )
  })
})
