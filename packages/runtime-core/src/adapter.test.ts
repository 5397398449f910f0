import { tmpdir } from 'node:os'
import { dirname } from 'node:path'
import { fileURLToPath } from 'node:url'
import { expect, it } from 'vitest'
import { compareVersions, npmPackageBinary } from './adapter'

it('finds a binary inside an npm package from the first folder that resolves it', () => {
  const here = dirname(fileURLToPath(import.meta.url))
  expect(npmPackageBinary('deno', ['deno'], tmpdir())).toBeUndefined()
  const found = npmPackageBinary('deno', ['deno'], [tmpdir(), here])
  expect(found).toMatch(/deno$/)
  expect(npmPackageBinary('no-such-package-fn', ['x'], [tmpdir(), here])).toBeUndefined()
})

it('compares dotted versions numerically', () => {
  expect(compareVersions('2.9.6', '2.0')).toBeGreaterThan(0)
  expect(compareVersions('1.10.0', '1.9')).toBeGreaterThan(0)
  expect(compareVersions('3.9', '3.9.0')).toBe(0)
  expect(compareVersions('1.2', '1.21')).toBeLessThan(0)
})
