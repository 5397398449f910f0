import { readFileSync } from 'node:fs'
import { mkdtemp } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { processAlive } from './conformance'
import { functionEnv } from './env'
import { runProcess } from './process'

const sh = (script: string, env: Record<string, string> = {}) => ({
  command: '/bin/sh',
  args: ['-c', script],
  cwd: tmpdir(),
  env: functionEnv({ declared: env }),
})

describe('runProcess', () => {
  it('feeds stdin and captures stdout and stderr', async () => {
    const r = await runProcess(sh('cat; echo oops >&2'), { input: 'héllo' })
    expect(r.exitCode).toBe(0)
    expect(r.stdout.toString()).toBe('héllo')
    expect(r.stderrTail).toContain('oops')
  })

  it('reports exit code and signal', async () => {
    expect((await runProcess(sh('exit 4'))).exitCode).toBe(4)
    expect((await runProcess(sh('kill -9 $$'))).signal).toBe('SIGKILL')
  })

  it('kills the whole group at the deadline, a TERM-ignoring grandchild included', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'fn-proc-'))
    const pidFile = join(dir, 'pid')
    const r = await runProcess(
      sh(`sh -c 'trap "" TERM; sleep 300' & echo $! > ${pidFile}; sleep 300`),
      {
        timeoutMs: 300,
        killGraceMs: 100,
      },
    )
    expect(r.timedOut).toBe(true)
    const pid = Number(readFileSync(pidFile, 'utf8'))
    await new Promise((res) => setTimeout(res, 200))
    expect(processAlive(pid)).toBe(false)
  })

  it('kills what the process left behind when it exits on its own', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'fn-proc-'))
    const pidFile = join(dir, 'pid')
    const r = await runProcess(sh(`sleep 300 > /dev/null 2>&1 & echo $! > ${pidFile}`))
    expect(r.exitCode).toBe(0)
    const pid = Number(readFileSync(pidFile, 'utf8'))
    await new Promise((res) => setTimeout(res, 200))
    expect(processAlive(pid)).toBe(false)
  })

  it('stops a process that writes more than the stdout cap', async () => {
    const r = await runProcess(sh('yes'), { maxStdoutBytes: 1024 * 1024 })
    expect(r.outputLimit).toBe(true)
    expect(r.stdout.length).toBe(1024 * 1024)
  })

  it('reports a binary that does not exist', async () => {
    const r = await runProcess({ command: '/nonexistent/bin', args: [], cwd: tmpdir(), env: {} })
    expect(r.spawnError?.code).toBe('ENOENT')
  })

  it('cancels on abort', async () => {
    const ac = new AbortController()
    setTimeout(() => ac.abort(), 100)
    const r = await runProcess(sh('sleep 300'), { signal: ac.signal, killGraceMs: 100 })
    expect(r.cancelled).toBe(true)
  })
})

describe('functionEnv', () => {
  it('passes only the base, the pass-through names and the declared env', () => {
    const env = functionEnv({
      host: { PATH: '/bin', HOME: '/root', SECRET: 'x', GOCACHE: '/c' },
      passThrough: ['GOCACHE'],
      set: { A: '1' },
      declared: { B: '2', A: 'declared wins' },
    })
    expect(env).toEqual({ PATH: '/bin', HOME: '/root', GOCACHE: '/c', A: 'declared wins', B: '2' })
  })
})

describe('memory watchdog', () => {
  it('kills a process whose resident memory crosses the limit', async () => {
    const grow = 'const a = []; setInterval(() => a.push(Buffer.alloc(8 << 20, 1)), 5)'
    const r = await runProcess(
      { command: process.execPath, args: ['-e', grow], cwd: tmpdir(), env: functionEnv() },
      { memoryLimitMb: 120, timeoutMs: 20_000, killGraceMs: 100 },
    )
    expect(r.timedOut).toBe(false)
    expect(r.memoryExceededMb).toBeGreaterThan(120)
    expect(r.signal).toBe('SIGTERM')
  })

  it('leaves a process under the limit alone', async () => {
    const r = await runProcess(sh('echo small'), { memoryLimitMb: 512 })
    expect(r.memoryExceededMb).toBeUndefined()
    expect(r.exitCode).toBe(0)
  })
})
