import { readFileSync } from 'node:fs'
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { dirname, join } from 'node:path'
import type { FunctionDefinition } from '@fn/manifest'
import type { FnRequest } from '@fn/protocol'
import { BASE_ENV, createRunner, type Runner } from '@fn/runtime-core'
import { type ConformanceFixtures, testAdapter } from '@fn/runtime-core/conformance'
import { describeRuntime } from '@fn/tooling/runtimes'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { type GoAdapter, go } from './index'

const fixture = (path: string): string =>
  readFileSync(new URL(`../test/fixtures/${path}.go`, import.meta.url), 'utf8')

const fixtures: ConformanceFixtures = {
  entry: 'main.go',
  stdio: {
    echo: fixture('stdio/echo'),
    fail: fixture('stdio/fail'),
    exit: fixture('stdio/exit'),
    garbage: fixture('stdio/garbage'),
    sleep: fixture('stdio/sleep'),
  },
  handler: {
    echo: fixture('handler/echo'),
    sync: fixture('handler/sync'),
    throws: fixture('handler/throws'),
    unserialisable: fixture('handler/unserialisable'),
    logs: fixture('handler/logs'),
    crash: fixture('handler/crash'),
    sleep: fixture('handler/sleep'),
    pid: fixture('handler/pid'),
    concurrent: fixture('handler/concurrent'),
  },
}

/**
 * On a machine whose Go build cache is cold, the first build compiles the standard library
 * packages the fixtures use (40 s on a slow 2-core machine): do it once, outside the tests' own
 * timeouts.
 */
function warmGoBuildCache(bin: string): void {
  beforeAll(async () => {
    const root = await mkdtemp(join(tmpdir(), 'fn-go-warm-'))
    try {
      const adapter = go({ bin })
      const runtime = await adapter.resolve()
      const sources = { handler: fixtures.handler.logs, stdio: fixtures.stdio.sleep }
      for (const [protocol, source] of Object.entries(sources)) {
        const dir = join(root, protocol)
        await mkdir(dir, { recursive: true })
        await writeFile(join(dir, 'main.go'), source)
        const fn = {
          name: `warm-${protocol}`,
          dir,
          entry: join(dir, 'main.go'),
          entryRelative: 'main.go',
          runtime: 'go',
          protocol: protocol as 'handler' | 'stdio',
          mode: 'oneshot' as const,
          timeoutMs: 1000,
          pool: { min: 0, max: 1, idleTimeoutMs: 1000, maxRequests: 0, concurrency: 1 },
          env: {},
          permissions: { net: false, read: false, write: false, env: false, run: false },
        }
        await adapter.prepare(fn, { runtime, cacheDir: join(root, '.cache') })
      }
    } finally {
      await rm(root, { recursive: true, force: true })
    }
  }, 300_000)
}

describeRuntime('go', 'conformance', (bin) => {
  warmGoBuildCache(bin)
  testAdapter({ name: 'go', adapter: (b) => go({ bin: b }), bin, fixtures })
})

describeRuntime('go', 'go adapter', (bin) => {
  warmGoBuildCache(bin)
  let root = ''
  let seq = 0
  const runners: Runner[] = []

  beforeAll(async () => {
    root = await mkdtemp(join(tmpdir(), 'fn-go-'))
  })
  afterAll(async () => {
    await Promise.all(runners.map((r) => r.close()))
    await rm(root, { recursive: true, force: true })
  })

  /** Writes a function folder; `files` maps names to contents (main.go is the entry). */
  async function folder(files: Record<string, string>, name = `fn-${++seq}`): Promise<string> {
    const dir = join(root, name)
    for (const [file, content] of Object.entries(files)) {
      await mkdir(dirname(join(dir, file)), { recursive: true })
      await writeFile(join(dir, file), content)
    }
    return dir
  }

  function definition(
    dir: string,
    overrides: Partial<FunctionDefinition> = {},
  ): FunctionDefinition {
    const name = dir.slice(dir.lastIndexOf('/') + 1)
    return {
      name,
      dir,
      entry: join(dir, 'main.go'),
      entryRelative: 'main.go',
      runtime: 'go',
      protocol: 'handler',
      mode: 'warm',
      timeoutMs: 20_000,
      pool: { min: 0, max: 1, idleTimeoutMs: 60_000, maxRequests: 0, concurrency: 1 },
      env: {},
      permissions: { net: false, read: true, write: true, env: true, run: true },
      ...overrides,
    }
  }

  const cacheDir = () => join(root, '.cache')

  async function runner(adapter: GoAdapter, fn: FunctionDefinition): Promise<Runner> {
    const r = await createRunner(adapter, fn, { cacheDir: cacheDir(), killGraceMs: 200 })
    runners.push(r)
    return r
  }

  const request = (input: unknown, context: FnRequest['context'] = {}): FnRequest => ({
    request_id: `req-${++seq}`,
    function: 'test',
    input,
    context,
  })

  const version = (v: string) =>
    `package main\n\nfunc Handler() (string, error) { return "${v}", nil }\n`

  describe('build cache', () => {
    it('builds once: a second runner reuses the binary, an edit rebuilds', async () => {
      const adapter = go({ bin })
      const dir = await folder({ 'main.go': version('v1') })
      const fn = definition(dir)

      const first = await runner(adapter, fn)
      expect((await first.invoke(request(null))).output).toBe('v1')
      expect(adapter.buildStats()).toEqual({ hits: 0, builds: 1 })

      const second = await runner(adapter, fn)
      expect((await second.invoke(request(null))).output).toBe('v1')
      expect(adapter.buildStats()).toEqual({ hits: 1, builds: 1 })

      await writeFile(join(dir, 'main.go'), version('v2'))
      const edited = await runner(adapter, fn)
      expect((await edited.invoke(request(null))).output).toBe('v2')
      expect(adapter.buildStats()).toEqual({ hits: 1, builds: 2 })
    })

    it('keys stdio and handler builds apart', async () => {
      const adapter = go({ bin })
      const dir = await folder({ 'main.go': version('x') })
      const runtime = await adapter.resolve()
      const ctx = { runtime, cacheDir: cacheDir() }
      const handler = await adapter.prepare(definition(dir), ctx)
      // The same source as a stdio program has no main(): a different build, which fails.
      await expect(
        adapter.prepare(definition(dir, { protocol: 'stdio', mode: 'oneshot' }), ctx),
      ).rejects.toMatchObject({
        code: 'BUILD_FAILED',
        message: expect.stringContaining('function main is undeclared'),
      })
      expect(handler.handler).toBe(true)
      expect(adapter.buildStats().builds).toBe(2)
    })

    it('builds once when two first prepares run at the same time', async () => {
      const adapter = go({ bin })
      const dir = await folder({ 'main.go': version('together') })
      const fn = definition(dir)
      const [a, b] = await Promise.all([runner(adapter, fn), runner(adapter, fn)])
      expect(adapter.buildStats()).toEqual({ hits: 0, builds: 1 })
      expect((await a.invoke(request(null))).output).toBe('together')
      expect((await b.invoke(request(null))).output).toBe('together')
    })

    it('types a compile error as BUILD_FAILED with the compiler output, naming the source folder', async () => {
      const adapter = go({ bin })
      const dir = await folder({
        'main.go':
          'package main\n\nfunc Handler() (any, error) {\n\treturn undefinedThing, nil\n}\n',
      })
      const error = await runner(adapter, definition(dir)).catch((err: unknown) => err)
      expect(error).toMatchObject({ code: 'BUILD_FAILED' })
      const message = (error as Error).message
      expect(message).toContain(`${dir}/main.go:4:9: undefined: undefinedThing`)
      expect(message).not.toMatch(/\.tmp-\d+/)
    })

    it('explains a handler function that has no Handler, or its own main()', async () => {
      const adapter = go({ bin })
      const noHandler = await folder({ 'main.go': 'package main\n\nfunc handler() {}\n' })
      await expect(runner(adapter, definition(noHandler))).rejects.toMatchObject({
        code: 'BUILD_FAILED',
        message: expect.stringMatching(
          /undefined: Handler[\s\S]*func Handler|func Handler[\s\S]*undefined: Handler/,
        ),
      })
      const withMain = await folder({ 'main.go': `${version('m')}\nfunc main() {}\n` })
      await expect(runner(adapter, definition(withMain))).rejects.toMatchObject({
        code: 'BUILD_FAILED',
        message: expect.stringContaining('has no func main()'),
      })
      await expect(runner(adapter, definition(withMain))).rejects.toMatchObject({
        message: expect.stringMatching(/main redeclared[\s\S]*\t\.\/fn_main\.go:\d+/),
      })
    })

    it('builds a go.mod with a dependency from the module proxy', async () => {
      const adapter = go({ bin })
      const dir = await folder({
        'go.mod': 'module example.com/uuidfn\n\ngo 1.21\n\nrequire github.com/google/uuid v1.6.0\n',
        'main.go': [
          'package main',
          '',
          'import "github.com/google/uuid"',
          '',
          'func Handler(input struct{ Name string }) (string, error) {',
          '\treturn uuid.NewSHA1(uuid.NameSpaceURL, []byte(input.Name)).String(), nil',
          '}',
          '',
        ].join('\n'),
      })
      const r = await runner(adapter, definition(dir, { timeoutMs: 120_000 }))
      const out = await r.invoke(request({ Name: 'https://example.com' }))
      expect(out.error).toBeUndefined()
      expect(out.output).toBe('4fd35a71-71ef-5a55-a9d9-aa75c889a6d0')
    }, 180_000)

    it('follows a local replace directive and rebuilds when the replaced module changes', async () => {
      const adapter = go({ bin })
      const shared = (word: string) => `package shared\n\nfunc Word() string { return "${word}" }\n`
      await folder(
        { 'go.mod': 'module example.com/shared\n\ngo 1.21\n', 'shared.go': shared('one') },
        'shared-lib',
      )
      const dir = await folder({
        'go.mod': [
          'module example.com/user',
          '',
          'go 1.21',
          '',
          'require example.com/shared v0.0.0',
          '',
          'replace example.com/shared => ../shared-lib // local',
          '',
        ].join('\n'),
        'main.go':
          'package main\n\nimport "example.com/shared"\n\nfunc Handler() (string, error) { return shared.Word(), nil }\n',
      })
      const fn = definition(dir)
      expect((await (await runner(adapter, fn)).invoke(request(null))).output).toBe('one')
      await writeFile(join(root, 'shared-lib', 'shared.go'), shared('two'))
      expect((await (await runner(adapter, fn)).invoke(request(null))).output).toBe('two')
      expect(adapter.buildStats()).toEqual({ hits: 0, builds: 2 })
    })
  })

  describe('handler shim', () => {
    it('hands the handler its context: request, auth, env, deadline and logger', async () => {
      const dir = await folder({
        'main.go': `package main

import (
	"context"
	"encoding/json"
	"time"
)

func Handler(ctx context.Context, input json.RawMessage, fctx *FnContext) (any, error) {
	deadline, ok := ctx.Deadline()
	fctx.Log.Debug("debug line")
	fctx.Log.Errorf("formatted %d", 42)
	fctx.Log.Info("two values", 1, "b")
	return map[string]any{
		"request_id": fctx.RequestID,
		"function":   fctx.Function,
		"auth":       fctx.Auth,
		"env":        fctx.Env,
		"hasDeadline": ok,
		"sameDeadline": deadline.Equal(fctx.Deadline),
		"remainingOk": fctx.RemainingTime() > 0 && fctx.RemainingTime() <= 20*time.Second,
		"input":      input,
	}, nil
}
`,
      })
      const r = await runner(go({ bin }), definition(dir))
      const out = await r.invoke({
        request_id: 'ctx-1',
        function: 'ctx-fn',
        input: { a: [1, 2] },
        context: { auth: { sub: 'user-1' }, env: { MODE: 'test' } },
      })
      expect(out.error).toBeUndefined()
      expect(out.output).toEqual({
        request_id: 'ctx-1',
        function: 'ctx-fn',
        auth: { sub: 'user-1' },
        env: { MODE: 'test' },
        hasDeadline: true,
        sameDeadline: true,
        remainingOk: true,
        input: { a: [1, 2] },
      })
      expect(out.logs.map((l) => [l.level, l.message, l.data])).toEqual([
        ['debug', 'debug line', undefined],
        ['error', 'formatted 42', undefined],
        ['info', 'two values', [1, 'b']],
      ])
    })

    it('takes the code of any error with ErrorCode(), and its details', async () => {
      const dir = await folder({
        'main.go': `package main

import "fmt"

type quotaError struct{ used int }

func (e quotaError) Error() string             { return fmt.Sprintf("quota exceeded: %d", e.used) }
func (e quotaError) ErrorCode() string         { return "QUOTA_EXCEEDED" }
func (e quotaError) ErrorDetails() interface{} { return map[string]int{"used": e.used} }

type Input struct{ Kind string }

func Handler(in Input) (any, error) {
	switch in.Kind {
	case "coded":
		return nil, fmt.Errorf("wrapped: %w", quotaError{used: 7})
	case "bad-code":
		return nil, NewFnError("not a code", "lower case codes are ignored")
	}
	return nil, fmt.Errorf("plain failure")
}
`,
      })
      const r = await runner(go({ bin }), definition(dir))
      const coded = await r.invoke(request({ Kind: 'coded' }))
      expect(coded.error).toMatchObject({
        code: 'QUOTA_EXCEEDED',
        message: 'wrapped: quota exceeded: 7',
        details: { used: 7 },
      })
      expect((await r.invoke(request({ Kind: 'bad-code' }))).error?.code).toBe('FUNCTION_ERROR')
      expect((await r.invoke(request({ Kind: 'plain' }))).error).toMatchObject({
        code: 'FUNCTION_ERROR',
        message: 'plain failure',
      })
    })

    it('turns a panic into FUNCTION_ERROR with the panic value, and keeps serving in the same process', async () => {
      const dir = await folder({
        'main.go': `package main

import "os"

func Handler(in struct{ Panic bool }) (any, error) {
	if in.Panic {
		var m map[string]int
		m["boom"] = 1
	}
	return os.Getpid(), nil
}
`,
      })
      const r = await runner(go({ bin }), definition(dir))
      const before = await r.invoke(request({}))
      const panicked = await r.invoke(request({ Panic: true }))
      expect(panicked.error?.code).toBe('FUNCTION_ERROR')
      expect(panicked.error?.message).toContain('panic: assignment to entry in nil map')
      expect(JSON.stringify(panicked.error?.details)).toContain('main.Handler')
      const after = await r.invoke(request({}))
      expect(after.output).toBe(before.output)
      expect(after.cold).toBe(false)
    })

    it('rejects input that does not fit a typed parameter as INVALID_INPUT', async () => {
      const dir = await folder({
        'main.go': 'package main\n\nfunc Handler(n int) (int, error) { return n + 1, nil }\n',
      })
      const r = await runner(go({ bin }), definition(dir))
      expect((await r.invoke(request(41))).output).toBe(42)
      const bad = await r.invoke(request('forty-one'))
      expect(bad.error?.code).toBe('INVALID_INPUT')
      expect(bad.error?.message).toContain('int')
    })

    it('accepts a func variable without input or output', async () => {
      const dir = await folder({
        'main.go': `package main

import "context"

var Handler = func(ctx context.Context, fctx *FnContext) error {
	fctx.Log.Info("ran " + fctx.RequestID)
	return nil
}
`,
      })
      const r = await runner(go({ bin }), definition(dir))
      const out = await r.invoke({
        request_id: 'var-1',
        function: 'f',
        input: { ignored: true },
        context: {},
      })
      expect(out.error).toBeUndefined()
      expect(out.output).toBeNull()
      expect(out.logs.map((l) => l.message)).toEqual(['ran var-1'])
    })

    it('fails to start a worker whose Handler has an unsupported shape, saying which shapes work', async () => {
      const dir = await folder({
        'main.go': 'package main\n\nfunc Handler(a, b, c, d string) string { return a }\n',
      })
      const r = await runner(go({ bin }), definition(dir))
      const out = await r.invoke(request(null))
      expect(out.error?.code).toBe('BUILD_FAILED')
      expect(out.error?.message).toContain('unsupported signature')
      expect(out.error?.message).toContain('func Handler([ctx context.Context,]')
    })

    it('gives the process only the base env, the declared env and GOMEMLIMIT from memory', async () => {
      const dir = await folder({
        'main.go': `package main

import (
	"os"
	"runtime/debug"
	"strings"
)

func Handler() (any, error) {
	keys := []string{}
	for _, kv := range os.Environ() {
		keys = append(keys, strings.SplitN(kv, "=", 2)[0])
	}
	return map[string]any{"keys": keys, "limit": debug.SetMemoryLimit(-1)}, nil
}
`,
      })
      const r = await runner(
        go({ bin }),
        definition(dir, { memoryMb: 64, env: { DECLARED: 'yes' } }),
      )
      const out = (await r.invoke(request(null))).output as { keys: string[]; limit: number }
      expect(out.limit).toBe(64 * 1024 * 1024)
      for (const key of out.keys) expect([...BASE_ENV, 'DECLARED', 'GOMEMLIMIT']).toContain(key)
      expect(out.keys).toContain('DECLARED')
    })

    it('passes the adapter args to the program', async () => {
      const dir = await folder({
        'main.go':
          'package main\n\nimport "os"\n\nfunc Handler() ([]string, error) { return os.Args[1:], nil }\n',
      })
      const r = await runner(go({ bin, args: ['--flag', 'value'] }), definition(dir))
      expect((await r.invoke(request(null))).output).toEqual(['--flag', 'value'])
    })
  })
})
