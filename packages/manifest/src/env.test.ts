// biome-ignore-all lint/suspicious/noTemplateCurlyInString: "${VAR}" is fn.yaml env syntax, not a template
import { describe, expect, it } from 'vitest'
import { parseTemplate, resolveEnv } from './env'
import { ManifestError } from './errors'
import { parseManifest } from './parse'

const F = '/fns/hello/fn.yaml'

function errorOf(fn: () => unknown): ManifestError {
  try {
    fn()
  } catch (error) {
    if (error instanceof ManifestError) return error
    throw error
  }
  throw new Error('expected a ManifestError')
}

describe('parseTemplate', () => {
  it('splits text and references', () => {
    expect(parseTemplate('a${B}c${D:-x y}')).toEqual({
      ok: true,
      parts: ['a', { name: 'B' }, 'c', { name: 'D', fallback: 'x y' }],
    })
    expect(parseTemplate('')).toEqual({ ok: true, parts: [] })
    expect(parseTemplate('${A:-}')).toEqual({ ok: true, parts: [{ name: 'A', fallback: '' }] })
  })
  it('keeps "$" that does not start a reference, and "$${" as a literal "${"', () => {
    expect(parseTemplate('price $5, $HOME, $${NOT}')).toEqual({
      ok: true,
      parts: ['price $5, $HOME, ${NOT}'],
    })
  })
  it('explains malformed references', () => {
    expect(parseTemplate('x${A')).toEqual({
      ok: false,
      reason: '"${" at offset 1 is never closed by "}"',
    })
    expect(parseTemplate('${}')).toEqual({
      ok: false,
      reason: '"${}" is not a variable reference like "${NAME}"',
    })
    expect(parseTemplate('${A-b}')).toEqual({
      ok: false,
      reason: '"${A-b}" is not a variable reference like "${NAME}"',
    })
  })
})

describe('resolveEnv', () => {
  const host = { HOME: '/home/me', EMPTY: '', PORT: '8080' }

  it('replaces ${VAR} with host values and keeps everything else', () => {
    expect(
      resolveEnv(
        {
          A: '${HOME}/data',
          B: 'literal',
          C: 'http://localhost:${PORT}/',
          D: '$${HOME}',
          E: '${EMPTY}',
        },
        host,
        F,
      ),
    ).toEqual({
      A: '/home/me/data',
      B: 'literal',
      C: 'http://localhost:8080/',
      D: '${HOME}',
      E: '',
    })
  })

  it('uses the fallback when the variable is unset or empty', () => {
    expect(resolveEnv({ A: '${NOPE:-info}', B: '${EMPTY:-x}', C: '${HOME:-x}' }, host, F)).toEqual({
      A: 'info',
      B: 'x',
      C: '/home/me',
    })
  })

  it('passes only the variables named in env, never the rest of the host', () => {
    expect(resolveEnv({}, host, F)).toEqual({})
  })

  it('does not read inherited properties of the host object', () => {
    const error = errorOf(() => resolveEnv({ A: '${toString}' }, {}, F))
    expect(error.issues[0]?.message).toContain('environment variable "toString" is not set')
  })

  it('names every missing variable at once, never substituting an empty string', () => {
    const error = errorOf(() =>
      resolveEnv({ KEY: '${API_KEY}', URL: '${HOST}:${PORT2}', OK: '${HOME}' }, host, F),
    )
    expect(error.code).toBe('INVALID_MANIFEST')
    expect(error.file).toBe(F)
    expect(error.issues.map((issue) => issue.message)).toEqual([
      `environment variable "API_KEY" is not set at ${F}: env.KEY reads "\${API_KEY}": set API_KEY in the host environment, or give a fallback with "\${API_KEY:-value}"`,
      `environment variable "HOST" is not set at ${F}: env.URL reads "\${HOST}": set HOST in the host environment, or give a fallback with "\${HOST:-value}"`,
      `environment variable "PORT2" is not set at ${F}: env.URL reads "\${PORT2}": set PORT2 in the host environment, or give a fallback with "\${PORT2:-value}"`,
    ])
    expect(error.issues.map((issue) => issue.path)).toEqual(['env.KEY', 'env.URL', 'env.URL'])
  })

  it('points at the line of the value when the env came from parseManifest', () => {
    const manifest = parseManifest('name: a\nenv:\n  OK: x\n  KEY: ${API_KEY}\n', F)
    const error = errorOf(() => resolveEnv(manifest.env!, {}, F))
    expect(error.issues).toMatchObject([{ line: 4, column: 8, path: 'env.KEY' }])
    expect(error.message).toBe(
      `[fn] environment variable "API_KEY" is not set at ${F}:4:8: env.KEY reads "\${API_KEY}": set API_KEY in the host environment, or give a fallback with "\${API_KEY:-value}"`,
    )
  })

  it('rejects malformed values and non-strings given by code', () => {
    const error = errorOf(() => resolveEnv({ A: '${', B: 5 as unknown as string }, {}, F))
    expect(error.issues.map((issue) => issue.path)).toEqual(['env.A', 'env.B'])
    expect(error.issues[0]?.message).toContain(
      'found "${": "${" at offset 0 is never closed by "}"',
    )
    expect(error.issues[1]?.message).toContain('found 5')
  })
})
