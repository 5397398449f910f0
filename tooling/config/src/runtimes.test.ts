import { openSync, readSync } from 'node:fs'
import { expect, it } from 'vitest'
import { RUNTIMES, runtimeBinary } from './runtimes'

const magic = (path: string) => {
  const buf = Buffer.alloc(4)
  readSync(openSync(path, 'r'), buf, 0, 4, 0)
  return buf
}

it.each(RUNTIMES)('finds the real %s binary, not a wrapper script', (name) => {
  const bin = runtimeBinary(name)
  if (!bin) return // describeRuntime reports the missing runtime where it is needed
  // An ELF executable (Linux) or Mach-O (macOS): never a '#!' shim like pyenv's or npm's.
  expect(magic(bin).subarray(0, 2).toString()).not.toBe('#!')
})

it('caches lookups', () => {
  expect(runtimeBinary('node')).toBe(process.execPath)
  expect(runtimeBinary('node')).toBe(runtimeBinary('node'))
})
