import { defineConfig } from 'vitest/config'

// Runs every package's tests in one process: `pnpm test:unit`. `pnpm test` runs them per package.
export default defineConfig({
  test: {
    projects: ['packages/*', 'packages/runtimes/*', 'apps/*', 'tooling/*'],
  },
})
