import { describe, expect, it } from 'vitest'
import { closest, editDistance } from './suggest'

describe('editDistance', () => {
  it.each([
    ['', '', 0],
    ['abc', '', 3],
    ['timout', 'timeout', 1],
    ['memroy', 'memory', 1],
    ['kitten', 'sitting', 3],
  ] as const)('%j -> %j is %i', (a, b, d) => {
    expect(editDistance(a, b)).toBe(d)
    expect(editDistance(b, a)).toBe(d)
  })
})

describe('closest', () => {
  const keys = ['name', 'timeout', 'memory', 'env', 'sample_input', 'idle_timeout']
  it('suggests the key a typo most likely meant', () => {
    expect(closest('timout', keys)).toBe('timeout')
    expect(closest('memroy', keys)).toBe('memory')
    expect(closest('nmae', keys)).toBe('name')
  })
  it('suggests the snake_case key for camelCase, kebab-case and upper case spellings', () => {
    expect(closest('sampleInput', keys)).toBe('sample_input')
    expect(closest('idle-timeout', keys)).toBe('idle_timeout')
    expect(closest('ENV', keys)).toBe('env')
  })
  it('suggests nothing for words that are not close', () => {
    expect(closest('handler', keys)).toBeUndefined()
    expect(closest('xy', keys)).toBeUndefined()
    expect(closest('x'.repeat(500), keys)).toBeUndefined()
  })
})
