import { defineProject } from 'vitest/config'

/** Resolve workspace packages to their TypeScript sources, so tests never need a build. */
const conditions = ['@fn/source', 'module', 'node', 'import', 'default']

/**
 * The vitest project every package uses; `name` shows in the test output.
 * @param {string} name
 * @param {import('vitest/config').UserWorkspaceConfig['test']} [overrides]
 */
export function project(name, overrides = {}) {
  return defineProject({
    resolve: { conditions },
    ssr: { resolve: { conditions, externalConditions: ['@fn/source'] } },
    test: {
      name,
      include: ['src/**/*.test.ts', 'test/**/*.test.ts'],
      testTimeout: 30_000,
      hookTimeout: 60_000,
      ...overrides,
    },
  })
}
