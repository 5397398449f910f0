import { packageConfig } from '@fn/tooling/tsdown'

export default packageConfig({ entry: ['src/server.ts'], dts: false })
