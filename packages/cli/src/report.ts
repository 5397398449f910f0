/** Human and JSON renderings shared by `fn list`, `fn serve`, `fn dev` and `fn build`. */
import { basename } from 'node:path'
import type { Executor, FunctionSummary } from '@fn/executor'
import type { FnErrorBody, LogEntry } from '@fn/protocol'
import { type Style, table } from './style'

/** A row of `fn list --json`: a function, or a folder that failed to load (no runtime known). */
export type ListedFunction =
  | FunctionSummary
  | { name: string; dir: string; status: 'error'; error: { code: string; message: string } }

/** Every function the executor knows, then every folder it could not load, by name. */
export function listed(executor: Executor): ListedFunction[] {
  const known = new Set(executor.list().map((f) => f.name))
  const broken = executor
    .problems()
    .filter((p) => !known.has(basename(p.dir)))
    .map((p) => ({
      name: basename(p.dir),
      dir: p.dir,
      status: 'error' as const,
      error: { code: p.error.code, message: p.error.message },
    }))
  return [...executor.list(), ...broken].sort((a, b) => a.name.localeCompare(b.name))
}

/** The function table: one row each, and the error of a broken one indented below it. */
export function functionTable(s: Style, rows: ListedFunction[]): string {
  if (rows.length === 0) return s.dim('no functions found')
  const body: string[][] = []
  for (const f of rows) {
    const fn = 'runtime' in f ? f : undefined
    body.push([
      s.bold(f.name),
      fn?.runtime ?? '-',
      fn ? `${fn.protocol}/${fn.mode}` : '-',
      f.status === 'ready'
        ? s.green('ready')
        : f.status === 'stale'
          ? s.yellow('stale')
          : s.red('error'),
      fn?.description ?? '',
    ])
  }
  const lines = table(s, ['NAME', 'RUNTIME', 'PROTOCOL', 'STATUS', 'DESCRIPTION'], body).split('\n')
  // Errors go under their row, outside the column layout.
  const out = [lines[0] ?? '']
  rows.forEach((f, i) => {
    out.push(lines[i + 1] ?? '')
    if (!f.error) return
    const paint = f.status === 'stale' ? s.yellow : s.red
    const note = f.status === 'stale' ? ' (the last good version still serves)' : ''
    out.push(paint(indent(`${f.error.code}: ${f.error.message}${note}`, '  └ ', '    ')))
  })
  return out.join('\n')
}

/** One line per registered runtime: version, or why it is unavailable. */
export async function runtimeLine(s: Style, executor: Executor): Promise<string> {
  const runtimes = (await executor.runtimes()).filter((r) => r.used)
  if (runtimes.length === 0) return `${s.dim('runtimes:')} ${s.dim('none used yet')}`
  const parts = runtimes.map((r) =>
    r.info ? `${r.name} ${s.dim(r.info.version)}` : `${r.name} ${s.yellow('missing')}`,
  )
  return `${s.dim('runtimes:')} ${parts.join(s.dim(' · '))}`
}

export function indent(text: string, first: string, rest: string): string {
  return text
    .split('\n')
    .map((line, i) => (i === 0 ? first : rest) + line)
    .join('\n')
}

export function errorText(error: FnErrorBody | undefined): string {
  return error ? `${error.code}: ${error.message}` : 'unknown error'
}

const PALETTE = ['cyan', 'magenta', 'blue', 'yellow', 'green'] as const

/** `[name]` in a colour of its own, stable for a name, so interleaved logs stay readable. */
export function prefix(s: Style, name: string): string {
  let hash = 0
  for (const c of name) hash = (hash * 31 + c.charCodeAt(0)) >>> 0
  return s.paint(PALETTE[hash % PALETTE.length] ?? 'cyan', `[${name}]`)
}

const LEVEL_STYLE = { debug: 'dim', info: 'reset', warn: 'yellow', error: 'red' } as const

/** A function's log entry as one human line (data appended as compact JSON). */
export function logLine(s: Style, name: string, entry: LogEntry): string {
  const data = entry.data === undefined ? '' : ` ${s.dim(safeJson(entry.data))}`
  const level = s.paint(LEVEL_STYLE[entry.level] ?? 'reset', entry.level.padEnd(5))
  return `${prefix(s, name)} ${level} ${entry.message}${data}`
}

function safeJson(value: unknown): string {
  try {
    return JSON.stringify(value) ?? String(value)
  } catch {
    return String(value)
  }
}
