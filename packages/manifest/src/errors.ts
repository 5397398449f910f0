import { FnError } from '@fn/protocol'
import type { ManifestIssue } from './types'

const BRAND = Symbol.for('fn.ManifestError')

/**
 * fn.yaml (or a function folder) is invalid. Code `INVALID_MANIFEST`. `issues` lists every
 * problem of the file at once, each with its position, field path, what was found and what is
 * expected; `message` lists them too.
 */
export class ManifestError extends FnError {
  /** The fn.yaml, or the function folder when the problem is not inside a file. */
  readonly file: string
  readonly issues: ManifestIssue[]

  constructor(file: string, issues: ManifestIssue[], options: { cause?: unknown } = {}) {
    super('INVALID_MANIFEST', formatIssues(file, issues), { ...options, details: { file, issues } })
    this.file = file
    this.issues = issues
    Object.defineProperty(this, BRAND, { value: true })
  }
}

/** True for a ManifestError, also one created by another copy of this package. */
export function isManifestError(value: unknown): value is ManifestError {
  return (
    typeof value === 'object' &&
    value !== null &&
    (value as Record<symbol, unknown>)[BRAND] === true
  )
}

function formatIssues(file: string, issues: readonly ManifestIssue[]): string {
  if (issues.length === 1) return `[fn] ${issues[0]!.message}`
  const lines = issues.map((issue) => `  - ${issue.message}`)
  return `[fn] ${issues.length} problems in ${file}:\n${lines.join('\n')}`
}

/** `file:line:column`, or just the file when the position is unknown. */
export function location(file: string, line?: number, column?: number): string {
  if (line === undefined) return file
  return column === undefined ? `${file}:${line}` : `${file}:${line}:${column}`
}

/** A short description of a value found in a manifest, for messages: `"30x"`, `12`, `a list`. */
export function describe(value: unknown): string {
  if (value === undefined) return 'nothing'
  if (value === null) return 'null (an empty value)'
  if (typeof value === 'string') {
    const shown = value.length > 60 ? `${value.slice(0, 57)}...` : value
    return JSON.stringify(shown)
  }
  if (typeof value === 'number' || typeof value === 'boolean' || typeof value === 'bigint') {
    return String(value)
  }
  if (Array.isArray(value)) return value.length === 0 ? 'an empty list' : 'a list'
  if (typeof value === 'object') return 'a mapping'
  return typeof value
}

export interface IssueInput {
  file: string
  line?: number
  column?: number
  path: string
  /** Overrides the default `invalid value for "<path>"`. */
  what?: string
  expected?: string
  /** Pass `hasFound: true` to mention `found` even when it is undefined. */
  found?: unknown
  hasFound?: boolean
  hint?: string
}

/** Builds a ManifestIssue whose message reads `<what> at <file:line:col>: expected X, found Y: hint`. */
export function makeIssue(input: IssueInput): ManifestIssue {
  const what = input.what ?? `invalid value for "${input.path}"`
  const parts: string[] = []
  const hasFound = input.hasFound === true || input.found !== undefined
  if (input.expected !== undefined) {
    parts.push(
      hasFound
        ? `expected ${input.expected}, found ${describe(input.found)}`
        : `expected ${input.expected}`,
    )
  } else if (hasFound) {
    parts.push(`found ${describe(input.found)}`)
  }
  if (input.hint !== undefined) parts.push(input.hint)
  const where = location(input.file, input.line, input.column)
  const message =
    parts.length > 0 ? `${what} at ${where}: ${parts.join(': ')}` : `${what} at ${where}`
  const issue: ManifestIssue = { file: input.file, path: input.path, message }
  if (input.line !== undefined) issue.line = input.line
  if (input.column !== undefined) issue.column = input.column
  if (hasFound) issue.found = input.found
  if (input.expected !== undefined) issue.expected = input.expected
  return issue
}
