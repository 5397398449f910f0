import { project } from './src/vitest.mjs'

export default project('tooling')
