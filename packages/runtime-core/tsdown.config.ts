import { packageConfig } from '@fn/tooling/tsdown'

export default packageConfig({ entry: ['src/index.ts', 'src/conformance.ts'] })
