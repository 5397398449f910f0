/**
 * The one tsdown configuration every published package builds with:
 * ESM only, `.mjs` + `.d.mts`, Node platform, bundled declarations.
 * Plain JS so that config loaders on Node 20 import it without a TS hook.
 *
 * @param {import('tsdown').UserConfig} [overrides]
 * @returns {import('tsdown').UserConfig}
 */
export function packageConfig(overrides = {}) {
  return {
    entry: ['src/index.ts'],
    format: 'esm',
    platform: 'node',
    target: 'node20.19',
    dts: true,
    clean: true,
    sourcemap: false,
    ...overrides,
  }
}
