/**
 * The JavaScript fixtures of the conformance suite (FIXTURES.md in @fn/runtime-core), shared by
 * the node, deno and bun adapters: written with `node:` imports only, so one set runs on all
 * three. The deno and bun tests import this file by relative path.
 */
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { dirname, join } from 'node:path'
import type { FunctionDefinition } from '@fn/manifest'
import { createRunner, type Runner, type RuntimeAdapter } from '@fn/runtime-core'
import type { ConformanceFixtures } from '@fn/runtime-core/conformance'
import { afterAll, beforeAll, expect, it } from 'vitest'

// stdio: read the whole request from stdin, write one response JSON to stdout.
const stdio = (body: string): string => `import { spawn } from 'node:child_process'
import { writeFileSync, writeSync } from 'node:fs'
import { Buffer } from 'node:buffer'
import process from 'node:process'

const chunks = []
for await (const chunk of process.stdin) chunks.push(chunk)
const request = JSON.parse(Buffer.concat(chunks).toString('utf8'))
const respond = (response) => process.stdout.write(JSON.stringify(response))
${body}
`

const env = `secret: process.env.FN_CONFORMANCE_HOST_SECRET ?? null,
    declared: process.env.FN_DECLARED ?? null,`

// A child in the same process group that ignores SIGTERM: only SIGKILL of the group ends it.
const grandchild = `spawn('sh', ['-c', 'trap "" TERM; sleep 300'], { stdio: 'ignore' })`

export const jsFixtures: ConformanceFixtures = {
  entry: 'index.mjs',
  stdio: {
    echo: stdio(`respond({
  success: true,
  output: {
    input: request.input,
    request_id: request.request_id,
    ${env}
  },
})`),
    fail: stdio(
      `respond({ success: false, error: { code: 'E_FIXTURE', message: 'fixture failed on purpose' } })`,
    ),
    exit: stdio(`writeSync(2, 'fixture exiting\\n')
process.exit(3)`),
    garbage: stdio(`process.stdout.write('this is not json\\n')`),
    sleep: stdio(`const child = ${grandchild}
writeFileSync(request.input.pidFile, String(child.pid))
setTimeout(() => {}, 300_000)`),
  },
  handler: {
    echo: `import process from 'node:process'

export default async function (input, ctx) {
  await new Promise((resolve) => setTimeout(resolve, 1))
  return {
    input,
    request_id: ctx.request_id,
    function: ctx.function,
    ${env}
  }
}
`,
    sync: `export default function (input) {
  return { doubled: input.n * 2 }
}
`,
    throws: `class FixtureError extends Error {
  code = 'E_FIXTURE'
}

export default async function (input) {
  throw new FixtureError('bad input: ' + input.why)
}
`,
    unserialisable: `export default () => ({ n: 1n })
`,
    logs: `import { spawn } from 'node:child_process'
import { writeSync } from 'node:fs'

export default async function ({ tag, delayMs }, ctx) {
  console.log(\`stdout \${tag}\`)
  console.error(\`stderr \${tag}\`)
  ctx.log.info(\`structured \${tag}\`, { tag })
  writeSync(1, \`fd1 \${tag}\\n\`)
  await new Promise((resolve, reject) => {
    const child = spawn('sh', ['-c', \`echo child \${tag}\`], { stdio: ['ignore', 'inherit', 'inherit'] })
    child.on('error', reject).on('close', resolve)
  })
  await new Promise((resolve) => setTimeout(resolve, delayMs))
  ctx.log.warn(\`after sleep \${tag}\`)
  return { tag }
}
`,
    crash: `import { writeSync } from 'node:fs'
import process from 'node:process'

export default function (input) {
  if (input.crash) {
    writeSync(2, 'crashing now\\n')
    process.exit(7)
  }
  return 'alive'
}
`,
    sleep: `import { spawn } from 'node:child_process'
import { writeFileSync } from 'node:fs'

export default async function ({ ms, pidFile }) {
  if (pidFile) writeFileSync(pidFile, String(${grandchild}.pid))
  await new Promise((resolve) => setTimeout(resolve, ms))
  return { slept: ms }
}
`,
    pid: `import process from 'node:process'

export default () => process.pid
`,
  },
}

/** A TypeScript handler in two files (erasable syntax only, so Node's type stripping runs it). */
export const tsHandler: Record<string, string> = {
  'index.ts': `import { double } from './double.ts'

interface Input {
  n: number
}

interface Context {
  request_id: string
  log: { info(message: string, data?: unknown): void }
}

export default async function handler(input: Input, ctx: Context): Promise<{ doubled: number; id: string }> {
  ctx.log.info('doubling', { n: input.n } satisfies Input)
  return { doubled: double(input.n), id: ctx.request_id }
}
`,
  'double.ts': `export const double = (n: number): number => n * 2
`,
}

export type TestRequest = Parameters<Runner['invoke']>[0]

/** Function folders in a temporary directory, and runners for them, closed after the file. */
export function useFunctions(label: string): {
  /** Writes `files` into a new function folder (entry: the first file) and starts a runner. */
  start(
    adapter: RuntimeAdapter,
    files: Record<string, string>,
    overrides?: Partial<FunctionDefinition>,
  ): Promise<Runner>
  request(input: unknown): TestRequest
} {
  let root = ''
  let seq = 0
  const runners: Runner[] = []
  beforeAll(async () => {
    root = await mkdtemp(join(tmpdir(), `fn-${label}-`))
  })
  afterAll(async () => {
    await Promise.all(runners.map((r) => r.close()))
    await rm(root, { recursive: true, force: true })
  })
  return {
    async start(adapter, files, overrides = {}) {
      const name = `fn-${++seq}`
      const dir = join(root, name)
      for (const [file, content] of Object.entries(files)) {
        await mkdir(dirname(join(dir, file)), { recursive: true })
        await writeFile(join(dir, file), content)
      }
      const entryRelative = Object.keys(files)[0] ?? 'index.mjs'
      const fn: FunctionDefinition = {
        name,
        dir,
        entry: join(dir, entryRelative),
        entryRelative,
        runtime: adapter.name,
        protocol: 'handler',
        mode: 'warm',
        timeoutMs: 20_000,
        pool: { min: 0, max: 1, idleTimeoutMs: 60_000, maxRequests: 0 },
        env: {},
        permissions: { net: false, read: false, write: false, env: false, run: false },
        ...overrides,
      }
      const runner = await createRunner(adapter, fn, {
        cacheDir: join(root, '.cache'),
        killGraceMs: 200,
      })
      runners.push(runner)
      return runner
    },
    request: (input) => ({ request_id: `req-${++seq}`, function: 'test', input, context: {} }),
  }
}

/** What the shared JavaScript bootstrap does, checked on one runtime (inside its describe). */
export function shimTests(
  fns: ReturnType<typeof useFunctions>,
  adapter: () => RuntimeAdapter,
): void {
  it('runs a TypeScript handler that imports its own files', async () => {
    const r = await fns.start(adapter(), tsHandler)
    const out = await r.invoke(fns.request({ n: 21 }))
    expect(out.error).toBeUndefined()
    expect(out.output).toMatchObject({ doubled: 42 })
    expect(out.logs.find((l) => l.message === 'doubling')?.data).toEqual({ n: 21 })
  })

  it("takes a named handler export, and keeps an error's own code and details", async () => {
    const r = await fns.start(adapter(), {
      'index.mjs': `export async function handler(sku) {
  throw Object.assign(new Error('out of stock'), { code: 'OUT_OF_STOCK', details: { sku } })
}
`,
    })
    const out = await r.invoke(fns.request('sku-1'))
    expect(out.error).toEqual({
      code: 'OUT_OF_STOCK',
      message: 'out of stock',
      details: { sku: 'sku-1' },
    })
  })

  it('attributes large process.stdout/stderr writes to their own invocation', async () => {
    // Runtimes may buffer these writes (Bun does, and Node for big ones): the end marker must wait.
    const r = await fns.start(adapter(), {
      'index.mjs': `import process from 'node:process'
export default (tag) => {
  process.stdout.write(tag + ' out ' + 'x'.repeat(300_000) + '\\n')
  process.stderr.write(tag + ' err ' + 'y'.repeat(300_000) + '\\n')
  return tag
}
`,
    })
    for (const tag of ['first', 'second', 'third']) {
      const out = await r.invoke(fns.request(tag))
      expect(out.output).toBe(tag)
      const lines = out.logs.map((l) => `${l.level} ${l.message.split(' ', 2).join(' ')}`)
      expect(lines).toEqual(expect.arrayContaining([`info ${tag} out`, `error ${tag} err`]))
      expect(
        lines.every((l) => l.includes(tag)),
        String(lines),
      ).toBe(true)
    }
  })

  it('reports an entry that fails to load, or exports no handler, as BUILD_FAILED', async () => {
    const broken = await fns.start(adapter(), { 'index.mjs': 'throw new Error("cannot load")\n' })
    const out = await broken.invoke(fns.request(null))
    expect(out.error).toMatchObject({
      code: 'BUILD_FAILED',
      message: expect.stringContaining('cannot load'),
    })
    const empty = await fns.start(adapter(), { 'index.mjs': 'export const x = 1\n' })
    expect((await empty.invoke(fns.request(null))).error).toMatchObject({
      code: 'BUILD_FAILED',
      message: expect.stringContaining('exports no handler'),
    })
  })

  it('fails the invocation in progress as CRASHED when an error escapes the handler', async () => {
    const r = await fns.start(adapter(), {
      'index.mjs': `export default () => new Promise(() => setTimeout(() => { throw new Error('escaped') }, 1))\n`,
    })
    const out = await r.invoke(fns.request(null))
    expect(out.error?.code).toBe('CRASHED')
    expect(out.error?.message).toContain('escaped')
  })
}
