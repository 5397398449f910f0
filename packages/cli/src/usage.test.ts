/** Help, version and usage errors of the `fn` binary: exit 2 and a message naming the argument. */
import { readdir, readFile } from 'node:fs/promises'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { version } from '../package.json'
import { fn, project } from '../test/helpers'

let p: Awaited<ReturnType<typeof project>>
beforeAll(async () => {
  p = await project({ 'hello/index.mjs': 'export default () => ({ ok: true })\n' })
})
afterAll(() => p.cleanup())

describe('help and version', () => {
  it('fn --help lists every command and the exit codes', async () => {
    const run = await fn(['--help'], { cwd: p.root })
    expect(run.code).toBe(0)
    for (const cmd of ['invoke', 'list', 'serve', 'dev', 'build', 'new']) {
      expect(run.stdout).toMatch(new RegExp(`^  ${cmd}\\b`, 'm'))
    }
    expect(run.stdout).toContain(
      'Exit codes: 0 ok, 1 the function or operation failed, 2 usage error',
    )
  })

  it.each([
    ['invoke', ['--input <json>', '--input-file <file>', '--dir <folder>', '--timeout <duration>']],
    ['list', ['--json', '--dir <folder>']],
    ['serve', ['--port <port>', '--host <host>', '--max-body <size>', '--json']],
    ['dev', ['--port <port>', '--debounce <ms>']],
    ['build', ['--json', '--dir <folder>']],
    ['new', ['--runtime <runtime>', '(choices: "node", "deno"']],
  ])('fn %s --help shows its options', async (cmd, options) => {
    const run = await fn([cmd, '--help'], { cwd: p.root })
    expect(run.code).toBe(0)
    expect(run.stdout).toContain(`Usage: fn ${cmd}`)
    for (const option of options) expect(run.stdout).toContain(option)
  })

  it('fn --version prints the package version', async () => {
    const run = await fn(['--version'], { cwd: p.root })
    expect(run.code).toBe(0)
    expect(run.stdout.trim()).toBe(version)
  })

  it('fn alone shows the help and exits 2', async () => {
    const run = await fn([], { cwd: p.root })
    expect(run.code).toBe(2)
    expect(run.stderr).toContain('Usage: fn')
  })
})

describe('usage errors exit 2 and name the bad argument', () => {
  it.each([
    [['nope'], "unknown command 'nope'"],
    [['invokee', 'hello'], "unknown command 'invokee'"],
    [['invoke'], "missing required argument 'name'"],
    [['invoke', 'hello', '--nope'], "unknown option '--nope'"],
    [['invoke', 'hello', '--input'], "option '-i, --input <json>' argument missing"],
    [
      ['invoke', 'hello', '--input', '{bad'],
      "option '-i, --input <json>' argument '{bad' is invalid",
    ],
    [
      ['invoke', 'hello', '--input', '{}', '--input-file', 'x.json'],
      "option '-i, --input <json>' cannot be used with option '-f, --input-file <file>'",
    ],
    [
      ['invoke', 'hello', '--timeout', 'soon'],
      "option '-t, --timeout <duration>' argument 'soon' is invalid",
    ],
    [['invoke', 'hello', '--dir', 'nowhere'], '--dir nowhere: no such folder'],
    [
      ['invoke', 'hello', '--input-file', 'missing.json'],
      '--input-file missing.json: cannot read it (ENOENT)',
    ],
    [['serve', '--port', 'abc'], "option '-p, --port <port>' argument 'abc' is invalid"],
    [['serve', '--port', '70000'], "option '-p, --port <port>' argument '70000' is invalid"],
    [['serve', '--max-body', 'huge'], "option '--max-body <size>' argument 'huge' is invalid"],
    [['list', '--dir', 'nowhere'], '--dir nowhere: no such folder'],
    [['new', 'x'], "required option '-r, --runtime <runtime>' not specified"],
    [
      ['new', 'x', '--runtime', 'ruby'],
      "argument 'ruby' is invalid. Allowed choices are node, deno, bun, python, go",
    ],
    [['new', 'Hello', '--runtime', 'node'], "value 'Hello' is invalid for argument 'name'"],
    [['new', '1st', '--runtime', 'node'], "value '1st' is invalid for argument 'name'"],
  ])('fn %j', async (args, message) => {
    const run = await fn(args, { cwd: p.root })
    expect(run.code).toBe(2)
    expect(run.stderr).toContain(message)
    expect(run.stdout).toBe('')
  })

  it('invalid --input JSON says why and how to quote it', async () => {
    const run = await fn(['invoke', 'hello', '--input', '{name: 1}'], { cwd: p.root })
    expect(run.code).toBe(2)
    expect(run.stderr).toContain('It is not valid JSON')
    expect(run.stderr).toContain(`--input '{"name":"fn"}'`)
  })

  it('an --input-file that is not JSON names the file', async () => {
    await p.write({ '../bad.json': '{"a": ' })
    const run = await fn(['invoke', 'hello', '--input-file', 'bad.json'], { cwd: p.root })
    expect(run.code).toBe(2)
    expect(run.stderr).toContain('--input-file bad.json: not valid JSON')
  })

  it('suggests the command meant', async () => {
    const run = await fn(['lsit'], { cwd: p.root })
    expect(run.code).toBe(2)
    expect(run.stderr).toContain('(Did you mean list?)')
  })

  it('an invalid name for fn new writes nothing', async () => {
    const before = await readdir(p.functions)
    const run = await fn(['new', 'Bad Name', '--runtime', 'python'], { cwd: p.root })
    expect(run.code).toBe(2)
    expect(await readdir(p.functions)).toEqual(before)
  })
})

describe('fn new refuses to overwrite', () => {
  it('an existing folder is refused with exit 1 and left untouched', async () => {
    const run = await fn(['new', 'hello', '--runtime', 'node'], { cwd: p.root })
    expect(run.code).toBe(1)
    expect(run.stderr).toContain('functions/hello already exists: fn new never overwrites')
    expect(await readdir(join(p.functions, 'hello'))).toEqual(['index.mjs'])
    expect(await readFile(join(p.functions, 'hello', 'index.mjs'), 'utf8')).toContain('ok: true')
  })
})
