// A small third-party-style adapter for POSIX shell scripts speaking the stdio protocol: what a
// user writes with nothing but @fn/runtime-core. The executor tests use it for behaviour that
// does not depend on a language.
import { defineAdapter } from '@fn/runtime-core'

export const sh = (bin?: string) =>
  defineAdapter({
    name: 'sh',
    extensions: ['.sh'],
    requirement: { bin: 'sh', install: 'apt-get install dash' },
    options: bin ? { bin } : {},
    probe: { args: ['-c', 'echo 1.0.0'], parse: (out) => ({ version: out.trim() }) },
    launch: (fn) => ({ args: [fn.entry] }),
  })
