/** `bun install` as the installer of bun functions' package.json dependencies. */
import type { PackageTool } from '@fn/runtime-core'

/** bun: `bun install --frozen-lockfile` from a bun.lock / bun.lockb, else `bun install`. */
export const bunTool: PackageTool = {
  name: 'bun',
  lockfiles: ['bun.lock', 'bun.lockb'],
  // bunfig.toml's [install] section and .npmrc set registries, scopes and the linker.
  configFiles: ['bunfig.toml', '.npmrc'],
  envPrefixes: ['BUN_'],
  // bun is the runtime: its version is part of the key already.
  identity: async () => [],
  command: async (runtime, { lockfile, scripts, args }) => ({
    command: runtime.bin,
    args: [
      'install',
      '--production',
      '--no-progress',
      ...(lockfile ? ['--frozen-lockfile'] : []),
      ...(scripts ? [] : ['--ignore-scripts']),
      ...args,
    ],
    what: lockfile ? 'bun install --frozen-lockfile' : 'bun install',
  }),
}
