import { project } from '@fn/tooling/vitest'

export default project('manifest')
