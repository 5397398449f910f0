/** Drives the built `fn` binary as a subprocess, on real temp function folders. */
import { type ChildProcess, spawn, spawnSync } from 'node:child_process'
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { RUNTIMES, runtimeBinary } from '@fn/tooling/runtimes'

export const FN_BIN: string = join(dirname(fileURLToPath(import.meta.url)), '..', 'dist', 'cli.mjs')

/** The environment every `fn` under test gets: plain output, the real runtime binaries. */
export function fnEnv(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env, NO_COLOR: '1', ...extra }
  delete env['FORCE_COLOR']
  for (const name of RUNTIMES) {
    const bin = runtimeBinary(name)
    if (bin) env[`FN_${name.toUpperCase()}_BIN`] = bin
  }
  return env
}

export interface FnRun {
  code: number | null
  stdout: string
  stderr: string
}

export interface FnRunOptions {
  cwd: string
  /** Written to stdin, which is then closed. */
  stdin?: string
  env?: Record<string, string>
  timeoutMs?: number
}

/** Runs `fn ...args` to completion. */
export function fn(args: string[], options: FnRunOptions): Promise<FnRun> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [FN_BIN, ...args], {
      cwd: options.cwd,
      env: fnEnv(options.env),
      stdio: ['pipe', 'pipe', 'pipe'],
    })
    let stdout = ''
    let stderr = ''
    child.stdout.setEncoding('utf8').on('data', (d: string) => {
      stdout += d
    })
    child.stderr.setEncoding('utf8').on('data', (d: string) => {
      stderr += d
    })
    const timer = setTimeout(() => {
      child.kill('SIGKILL')
      reject(
        new Error(
          `fn ${args.join(' ')} did not finish in time\nstdout: ${stdout}\nstderr: ${stderr}`,
        ),
      )
    }, options.timeoutMs ?? 50_000)
    child.on('error', reject)
    child.on('close', (code) => {
      clearTimeout(timer)
      resolve({ code, stdout, stderr })
    })
    child.stdin.end(options.stdin ?? '')
  })
}

/** A long-running `fn serve` / `fn dev`, its stdout collected line by line. */
export class FnProcess {
  readonly child: ChildProcess
  readonly lines: string[] = []
  stderr = ''
  private waiters: Array<() => void> = []
  readonly exited: Promise<number | null>

  constructor(args: string[], options: FnRunOptions) {
    this.child = spawn(process.execPath, [FN_BIN, ...args], {
      cwd: options.cwd,
      env: fnEnv(options.env),
      stdio: ['ignore', 'pipe', 'pipe'],
    })
    let pending = ''
    this.child.stdout?.setEncoding('utf8').on('data', (d: string) => {
      pending += d
      const parts = pending.split('\n')
      pending = parts.pop() ?? ''
      this.lines.push(...parts)
      for (const w of this.waiters.splice(0)) w()
    })
    this.child.stderr?.setEncoding('utf8').on('data', (d: string) => {
      this.stderr += d
    })
    this.exited = new Promise((resolve) =>
      this.child.on('close', (code) => {
        for (const w of this.waiters.splice(0)) w()
        resolve(code)
      }),
    )
  }

  /** The first stdout line (from `from` on) matching `test`; fails after `timeoutMs`. */
  async waitFor(test: (line: string) => boolean, timeoutMs = 30_000, from = 0): Promise<string> {
    const deadline = Date.now() + timeoutMs
    for (;;) {
      const found = this.lines.slice(from).find(test)
      if (found !== undefined) return found
      if (this.child.exitCode !== null || Date.now() > deadline) {
        throw new Error(
          `no matching line (exit ${this.child.exitCode})\nstdout:\n${this.lines.join('\n')}\nstderr:\n${this.stderr}`,
        )
      }
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, Math.max(1, deadline - Date.now()))
        this.waiters.push(() => {
          clearTimeout(timer)
          resolve()
        })
      })
    }
  }

  /** NDJSON events (`--json`) seen so far. */
  events(): Array<Record<string, unknown>> {
    return this.lines.flatMap((l) => {
      try {
        return [JSON.parse(l) as Record<string, unknown>]
      } catch {
        return []
      }
    })
  }

  /** The first event of `type` (from event index `from` on) that passes `test`. */
  async event(
    type: string,
    test: (e: Record<string, unknown>) => boolean = () => true,
    timeoutMs = 30_000,
  ): Promise<Record<string, unknown>> {
    const line = await this.waitFor((l) => {
      try {
        const e = JSON.parse(l) as Record<string, unknown>
        return e['type'] === type && test(e)
      } catch {
        return false
      }
    }, timeoutMs)
    return JSON.parse(line) as Record<string, unknown>
  }

  /** SIGTERM, then the exit code. */
  async stop(): Promise<number | null> {
    if (this.child.exitCode === null) this.child.kill('SIGTERM')
    const timer = setTimeout(() => this.child.kill('SIGKILL'), 15_000)
    const code = await this.exited
    clearTimeout(timer)
    return code
  }
}

/** A temp project folder with `functions/` holding `files` (paths relative to functions/). */
export async function project(files: Record<string, string> = {}): Promise<{
  root: string
  functions: string
  write: (files: Record<string, string>) => Promise<void>
  cleanup: () => Promise<void>
}> {
  const root = await mkdtemp(join(tmpdir(), 'fn-cli-'))
  const functions = join(root, 'functions')
  await mkdir(functions)
  const write = async (more: Record<string, string>) => {
    for (const [path, content] of Object.entries(more)) {
      await mkdir(dirname(join(functions, path)), { recursive: true })
      await writeFile(join(functions, path), content)
    }
  }
  await write(files)
  return { root, functions, write, cleanup: () => rm(root, { recursive: true, force: true }) }
}

/** Parses stdout as one JSON document (the response of `fn invoke`, `--json` outputs). */
export function json<T = Record<string, unknown>>(run: FnRun): T {
  try {
    return JSON.parse(run.stdout) as T
  } catch {
    throw new Error(`stdout is not JSON (exit ${run.code}):\n${run.stdout}\nstderr:\n${run.stderr}`)
  }
}

const quote = (s: string) => `'${s.replace(/'/g, `'\\''`)}'`

/** `script` (util-linux) gives `fn` a pseudo-terminal: TTY output, as a user sees it. */
export const hasScript: boolean = (() => {
  try {
    return spawnSync('script', ['--version'], { stdio: 'ignore' }).status === 0
  } catch {
    return false
  }
})()

/** Runs `fn ...args` on a pseudo-terminal; stdout and stderr arrive together, with \r\n. */
export function fnTty(args: string[], options: FnRunOptions & { color?: boolean }): Promise<FnRun> {
  return new Promise((resolve, reject) => {
    const command = [process.execPath, FN_BIN, ...args].map(quote).join(' ')
    const env = fnEnv(options.env)
    if (options.color) {
      if (!options.env?.['NO_COLOR']) delete env['NO_COLOR']
      env['TERM'] = 'xterm-256color'
      // Node's colour detection treats any CI=... terminal as monochrome: this test is about a
      // person's terminal.
      delete env['CI']
    }
    const child = spawn('script', ['-qec', command, '/dev/null'], { cwd: options.cwd, env })
    let stdout = ''
    child.stdout.setEncoding('utf8').on('data', (d: string) => {
      stdout += d
    })
    child.on('error', reject)
    // What a terminal shows: a carriage return and "erase line" start the line over.
    const shown = (text: string) =>
      text
        .replace(/\r\n/g, '\n')
        .split('\n')
        .map((line) => (line.split('\r').at(-1) ?? '').replaceAll('\u001b[2K', ''))
        .join('\n')
    child.on('close', (code) => resolve({ code, stdout: shown(stdout), stderr: '' }))
    child.stdin.end()
  })
}
