import { describe, expect, it } from 'vitest'
import { languageVersion, localReplaces } from './gomod'

describe('localReplaces', () => {
  it('finds local directories in single-line and block replace directives', () => {
    const gomod = [
      'module example.com/fn',
      '',
      'go 1.22',
      '',
      'replace example.com/a => ../a // shared code',
      'replace example.com/b v1.2.3 => ./vendor-b',
      'replace example.com/remote => example.com/fork v1.0.0',
      'replace (',
      '\texample.com/c => /abs/c',
      '\t"example.com/d" => "../with space"',
      '\texample.com/e => example.com/e2 v0.1.0',
      ')',
      '// replace example.com/commented => ../nope',
    ].join('\n')
    expect(localReplaces(gomod, '/fns/hello')).toEqual([
      { old: 'example.com/a', written: '../a', dir: '/fns/a' },
      { old: 'example.com/b@v1.2.3', written: './vendor-b', dir: '/fns/hello/vendor-b' },
      { old: 'example.com/c', written: '/abs/c', dir: '/abs/c' },
      { old: 'example.com/d', written: '../with space', dir: '/fns/with space' },
    ])
  })

  it('finds nothing in a go.mod without local replacements', () => {
    expect(
      localReplaces('module x\n\ngo 1.21\n\nrequire github.com/google/uuid v1.6.0\n', '/x'),
    ).toEqual([])
  })
})

describe('languageVersion', () => {
  it('keeps major.minor of a toolchain version', () => {
    expect(languageVersion('1.26.8')).toBe('1.26')
    expect(languageVersion('1.21')).toBe('1.21')
  })
})
