import { packageConfig } from '@fn/tooling/tsdown'

// src/cli.ts is the `fn` bin (it keeps its shebang); src/index.ts the library.
export default packageConfig({ entry: ['src/index.ts', 'src/cli.ts'] })
