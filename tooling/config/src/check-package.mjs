#!/usr/bin/env node
// Packs the package in the current folder the way it will be published (pnpm applies
// publishConfig), then runs publint and are-the-types-wrong on the tarball.
import { execFileSync } from 'node:child_process'
import { mkdtempSync, readdirSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'

const out = mkdtempSync(join(tmpdir(), 'fn-pack-'))
/** @param {string} cmd @param {string[]} args */
const run = (cmd, args) => {
  console.log(`$ ${cmd} ${args.join(' ')}`)
  execFileSync(cmd, args, { stdio: 'inherit' })
}
try {
  run('pnpm', ['pack', '--pack-destination', out])
  const tgz = readdirSync(out).find((f) => f.endsWith('.tgz'))
  if (!tgz) throw new Error(`[fn] pnpm pack wrote no tarball into ${out}`)
  const file = join(out, tgz)
  run('publint', ['run', file, '--strict'])
  run('attw', [file, '--profile', 'esm-only', '--format', 'ascii'])
} finally {
  rmSync(out, { recursive: true, force: true })
}
