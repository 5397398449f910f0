import { project } from '@fn/tooling/vitest'

// The tests drive the built `fn` binary: build what is stale first.
export default project('cli', { globalSetup: ['./test/global-setup.ts'], testTimeout: 60_000 })
