// biome-ignore-all lint/suspicious/noTemplateCurlyInString: "${VAR}" is fn.yaml env syntax, not a template
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { stringify } from 'yaml'
import { isManifestError, ManifestError } from './errors'
import { parseManifest } from './parse'
import { TOP_KEYS } from './schema'

/** Runs parseManifest and fails the property on any error that is not a ManifestError. */
function parsesOrThrowsManifestError(text: string): void {
  try {
    parseManifest(text, 'fn.yaml')
  } catch (error) {
    if (!(error instanceof ManifestError) || !isManifestError(error)) throw error
    // Every issue says where and what, and the message lists them all.
    expect(error.code).toBe('INVALID_MANIFEST')
    expect(error.issues.length).toBeGreaterThan(0)
    for (const issue of error.issues) {
      // parseManifest wraps its own bugs as "cannot read manifest": none may ever show up.
      expect(issue.message).not.toMatch(/^cannot (read manifest|parse YAML)/)
      expect(error.message).toContain(issue.message)
      expect(issue.message.length).toBeGreaterThan(0)
      if (issue.line !== undefined) expect(issue.line).toBeGreaterThanOrEqual(1)
      if (issue.column !== undefined) expect(issue.column).toBeGreaterThanOrEqual(1)
    }
  }
}

const yamlish = fc.oneof(
  fc.constantFrom(
    ':',
    '- ',
    '  ',
    '\n',
    '&a ',
    '*a',
    '!!str ',
    '{',
    '}',
    '[',
    ']',
    '"',
    "'",
    '#',
    '---',
    '? ',
    '|',
    '>',
    ',',
    '${',
    '<<: ',
  ),
  ...TOP_KEYS.map((key) => fc.constant(`${key}: `)),
  fc.string({ maxLength: 8 }),
)

/** Values fn.yaml fields could plausibly hold, right or wrong. */
const fieldValue = fc.oneof(
  fc.jsonValue({ maxDepth: 3 }),
  fc.constantFrom(
    '30s',
    '500ms',
    '1gb',
    '256mb',
    '30x',
    'handler',
    'stdio',
    'warm',
    'oneshot',
    '${HOME}',
    '${',
    '../x',
    '/abs',
    'GET /x',
    'index.ts',
  ),
  fc.dictionary(
    fc.constantFrom(
      'min',
      'max',
      'idle_timeout',
      'max_requests',
      'net',
      'read',
      'command',
      'args',
      'watch',
      'output',
      'method',
      'path',
      'API_KEY',
      'x',
    ),
    fc.jsonValue({ maxDepth: 2 }),
  ),
)

describe('parseManifest on arbitrary input', () => {
  it('throws nothing but ManifestError on arbitrary strings', () => {
    fc.assert(fc.property(fc.string({ maxLength: 200 }), parsesOrThrowsManifestError), {
      numRuns: 500,
    })
    fc.assert(
      fc.property(fc.string({ unit: 'binary', maxLength: 200 }), parsesOrThrowsManifestError),
      { numRuns: 300 },
    )
  })

  it('throws nothing but ManifestError on YAML-ish token soup', () => {
    fc.assert(
      fc.property(
        fc.array(yamlish, { maxLength: 40 }).map((parts) => parts.join('')),
        parsesOrThrowsManifestError,
      ),
      { numRuns: 600 },
    )
  })

  it('throws nothing but ManifestError on arbitrary YAML documents', () => {
    fc.assert(
      fc.property(fc.object({ maxDepth: 3 }), (value) =>
        parsesOrThrowsManifestError(stringify(value, { aliasDuplicateObjects: true })),
      ),
      { numRuns: 300 },
    )
  })

  it('throws nothing but ManifestError on documents made of known keys with any values', () => {
    const manifest = fc.dictionary(fc.constantFrom(...TOP_KEYS), fieldValue, { maxKeys: 8 })
    fc.assert(
      fc.property(manifest, (value) => parsesOrThrowsManifestError(stringify(value))),
      { numRuns: 600 },
    )
  })

  it('parses every valid manifest it is given back to the same values', () => {
    const valid = fc.record(
      {
        name: fc.stringMatching(/^[a-z][a-z0-9_-]{0,20}$/),
        timeout: fc.integer({ min: 1, max: 10_000 }).map((ms) => `${ms}ms`),
        memory: fc.integer({ min: 1, max: 4096 }),
        concurrency: fc.integer({ min: 1, max: 64 }),
        env: fc.dictionary(
          fc.stringMatching(/^[A-Z_][A-Z0-9_]{0,10}$/),
          fc.string().filter((s) => !s.includes('${')),
        ),
        sample_input: fc.jsonValue({ maxDepth: 3 }),
      },
      { requiredKeys: [] },
    )
    fc.assert(
      fc.property(valid, (value) => {
        const manifest = parseManifest(stringify(value), 'fn.yaml')
        expect(manifest.name).toBe(value.name)
        expect(manifest.timeoutMs).toBe(
          value.timeout === undefined ? undefined : Number.parseInt(value.timeout, 10),
        )
        expect(manifest.memoryMb).toBe(value.memory)
        expect(manifest.concurrency).toBe(value.concurrency)
        expect(manifest.env).toEqual(value.env)
        if ('sample_input' in value) expect(manifest.sampleInput).toEqual(value.sample_input)
      }),
      { numRuns: 300 },
    )
  })
})
