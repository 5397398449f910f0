import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { FunctionDefinition } from '@fn/manifest'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { globToRegExp, runUserBuild } from './user-build'

let dir: string
let stamps: string

const def = (script: string, watch: string[] = ['src/**']): FunctionDefinition => ({
  name: 'built',
  dir,
  entry: join(dir, 'out', 'index.js'),
  entryRelative: 'out/index.js',
  runtime: 'node',
  protocol: 'handler',
  mode: 'warm',
  timeoutMs: 1000,
  pool: { min: 0, max: 1, idleTimeoutMs: 1000, maxRequests: 0, concurrency: 1 },
  env: {},
  permissions: { net: false, read: false, write: false, env: false, run: false },
  build: { command: 'sh', args: ['-c', script], watch, output: 'out' },
})

const script = 'mkdir -p out && cat src/a.txt > out/index.js && echo run >> runs.log'

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'fn-build-'))
  stamps = join(dir, '..', `${dir.split('/').pop()}-stamps`)
  await import('node:fs/promises').then((fs) => fs.mkdir(join(dir, 'src')))
  await writeFile(join(dir, 'src', 'a.txt'), 'one')
})
afterEach(async () => {
  await rm(dir, { recursive: true, force: true })
  await rm(stamps, { recursive: true, force: true })
})

describe('fn.yaml build', () => {
  it('runs before first use, then only when a watched input changes', async () => {
    expect(await runUserBuild(def(script), stamps)).toBe(true)
    expect(await readFile(join(dir, 'out', 'index.js'), 'utf8')).toBe('one')
    expect(await runUserBuild(def(script), stamps)).toBe(false)
    await writeFile(join(dir, 'notes.md'), 'not watched')
    expect(await runUserBuild(def(script), stamps)).toBe(false)
    await writeFile(join(dir, 'src', 'a.txt'), 'two')
    expect(await runUserBuild(def(script), stamps)).toBe(true)
    expect(await readFile(join(dir, 'out', 'index.js'), 'utf8')).toBe('two')
  })

  it('rebuilds when the output was deleted', async () => {
    await runUserBuild(def(script), stamps)
    await rm(join(dir, 'out'), { recursive: true })
    expect(await runUserBuild(def(script), stamps)).toBe(true)
  })

  it('never runs twice at once for the same inputs', async () => {
    const slow = `sleep 0.2 && ${script}`
    const [a, b] = await Promise.all([
      runUserBuild(def(slow), stamps),
      runUserBuild(def(slow), stamps),
    ])
    expect(a && b).toBe(true)
    expect((await readFile(join(dir, 'runs.log'), 'utf8')).trim().split('\n')).toEqual(['run'])
  })

  it('is BUILD_FAILED with the tail of the build log', async () => {
    const failing = 'echo compiling; echo "error TS2304: Cannot find name x" >&2; exit 2'
    await expect(runUserBuild(def(failing), stamps)).rejects.toMatchObject({
      code: 'BUILD_FAILED',
      message: expect.stringMatching(/exit code 2[\s\S]*compiling[\s\S]*TS2304/),
    })
  })

  it('matches watch globs', () => {
    expect(globToRegExp('src/**').test('src/a/b.ts')).toBe(true)
    expect(globToRegExp('**/*.ts').test('a.ts')).toBe(true)
    expect(globToRegExp('**/*.ts').test('x/y/a.ts')).toBe(true)
    expect(globToRegExp('*.ts').test('x/a.ts')).toBe(false)
    expect(globToRegExp('a?.json').test('ab.json')).toBe(true)
  })
})
