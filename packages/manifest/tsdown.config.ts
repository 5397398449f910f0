import { packageConfig } from '@fn/tooling/tsdown'

export default packageConfig()
