// biome-ignore-all lint/suspicious/noTemplateCurlyInString: "${VAR}" is fn.yaml env syntax, not a template
import { join } from 'node:path'
import { isFnError } from '@fn/protocol'
import { describe, expect, it } from 'vitest'
import { discover } from './discover'
import { ManifestError } from './errors'
import { rejection, tree } from './test-utils'

describe('discover', () => {
  it('finds a function in every subfolder, sorted by name', async () => {
    const root = await tree({
      'zeta/main.go': '',
      'alpha/index.ts': '',
      'alpha/deno.json': '{}',
      'mid/main.py': '',
      'mid/fn.yaml': 'name: beta\n',
      'README.md': '# not a function',
      'index.js': '',
    })
    const result = await discover(root, { hostEnv: {} })
    expect(result.problems).toEqual([])
    expect(result.functions.map((fn) => [fn.name, fn.runtime, fn.dir])).toEqual([
      ['alpha', 'deno', join(root, 'alpha')],
      ['beta', 'python', join(root, 'mid')],
      ['zeta', 'go', join(root, 'zeta')],
    ])
  })

  it('skips dot-folders, _-prefixed folders, node_modules and folders without any source', async () => {
    const root = await tree({
      '.git/index.js': '',
      '.hidden/main.py': '',
      '_shared/util.ts': '',
      '_template/fn.yaml': 'timeout: broken\n',
      'node_modules/pkg/index.js': '',
      'assets/logo.png': '',
      'docs/README.md': '',
      empty: { dir: true },
      'ok/main.py': '',
    })
    const result = await discover(root)
    expect(result.functions.map((fn) => fn.name)).toEqual(['ok'])
    expect(result.problems).toEqual([])
  })

  it('reports folders that look like functions but are broken, and still returns the others', async () => {
    const root = await tree({
      'good/main.py': '',
      'lib/util.ts': '',
      'bad-yaml/main.py': '',
      'bad-yaml/fn.yaml': 'timout: 3s\nmemory: lots\n',
      'only-yaml/fn.yaml': 'description: no code yet\n',
      'needs-env/main.py': '',
      'needs-env/fn.yaml': 'env:\n  TOKEN: ${FN_DISCOVER_NOPE}\n',
      'ambiguous/index.ts': '',
      'Bad Name/main.py': '',
      'escape/fn.yaml': 'entry: ../good/main.py\n',
      'also-good/index.js': '',
    })
    const result = await discover(root, { hostEnv: {} })
    expect(result.functions.map((fn) => fn.name)).toEqual(['also-good', 'good'])
    expect(result.problems.map((p) => p.dir)).toEqual(
      ['Bad Name', 'ambiguous', 'bad-yaml', 'escape', 'lib', 'needs-env', 'only-yaml'].map((d) =>
        join(root, d),
      ),
    )
    for (const problem of result.problems) {
      expect(isFnError(problem.error)).toBe(true)
      expect(problem.error.code).toBe('INVALID_MANIFEST')
    }
    const messages = Object.fromEntries(
      result.problems.map((p) => [p.dir.slice(root.length + 1), p.error.message]),
    )
    expect(messages['Bad Name']).toContain('folder name "Bad Name" is not a valid function name')
    expect(messages.ambiguous).toContain('cannot tell which runtime runs "index.ts"')
    expect(messages['bad-yaml']).toBe(
      [
        `[fn] 2 problems in ${join(root, 'bad-yaml/fn.yaml')}:`,
        `  - unknown key "timout" at ${join(root, 'bad-yaml/fn.yaml')}:1:1: did you mean "timeout"?`,
        `  - invalid value for "memory" at ${join(root, 'bad-yaml/fn.yaml')}:2:9: expected a size in megabytes like 128, "256mb" or "1gb" (units mb, gb; a plain number means megabytes), found "lots"`,
      ].join('\n'),
    )
    expect(messages.escape).toContain(
      'expected a path relative to the function folder that stays inside it',
    )
    expect(messages.lib).toContain(`no entry file found in ${join(root, 'lib')}`)
    expect(messages['needs-env']).toContain('environment variable "FN_DISCOVER_NOPE" is not set')
    expect(messages['only-yaml']).toContain('no entry file found')
  })

  it('registers none of the functions whose names collide, naming every folder', async () => {
    const root = await tree({
      'hello/index.js': '',
      'hello-v2/index.js': '',
      'hello-v2/fn.yaml': '# the new one\nname: hello\n',
      'other/index.js': '',
    })
    const result = await discover(root)
    expect(result.functions.map((fn) => fn.name)).toEqual(['other'])
    expect(result.problems.map((p) => p.dir)).toEqual([join(root, 'hello'), join(root, 'hello-v2')])
    const base = root.split('/').pop()
    const hint = `it is used by ${base}/hello and ${base}/hello-v2; names must be unique, so none of them is registered: rename a folder or change name: in its fn.yaml`
    expect(result.problems.map((p) => p.error.message)).toEqual([
      `[fn] duplicate function name "hello" at ${join(root, 'hello')}: ${hint}`,
      `[fn] duplicate function name "hello" at ${join(root, 'hello-v2/fn.yaml')}:2:7: ${hint}`,
    ])
    expect(result.problems[1]?.error).toBeInstanceOf(ManifestError)
  })

  it('follows symlinked function folders', async () => {
    const root = await tree({
      'elsewhere/fn/main.py': '',
      'functions/linked': { link: '../elsewhere/fn' },
    })
    const result = await discover(join(root, 'functions'))
    expect(result.functions.map((fn) => [fn.name, fn.dir])).toEqual([
      ['linked', join(root, 'functions/linked')],
    ])
  })

  it('returns nothing for an empty folder', async () => {
    expect(await discover(await tree())).toEqual({ functions: [], problems: [] })
  })

  it('rejects a functions folder that does not exist', async () => {
    const root = await tree()
    const error = await rejection(discover(join(root, 'nope')))
    expect(isFnError(error)).toBe(true)
    expect(error.code).toBe('FUNCTION_NOT_FOUND')
    expect(error.message).toBe(
      `[fn] functions folder ${join(root, 'nope')} does not exist or cannot be read: create it or point to the right folder`,
    )
  })
})
