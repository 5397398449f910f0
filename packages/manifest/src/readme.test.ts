// biome-ignore-all lint/suspicious/noTemplateCurlyInString: "${VAR}" is fn.yaml env syntax, not a template
import { readFile } from 'node:fs/promises'
import { expect, it } from 'vitest'
import { parseManifest } from './parse'

it('parses the full fn.yaml example of the README', async () => {
  const readme = await readFile(new URL('../README.md', import.meta.url), 'utf8')
  const example = /```yaml\n([\s\S]*?)```/.exec(readme)?.[1]
  expect(example).toBeDefined()
  const manifest = parseManifest(example!, 'README.md')
  expect(manifest).toMatchObject({
    name: 'resize-image',
    timeoutMs: 30_000,
    memoryMb: 512,
    pool: { min: 1, max: 4, idleTimeoutMs: 120_000, maxRequests: 1000, concurrency: 2 },
    env: { LOG_LEVEL: '${LOG_LEVEL:-info}' },
    routes: [
      { method: 'POST', path: '/resize' },
      { method: 'GET', path: '/resize/:id' },
    ],
  })
})
