import * as v from 'valibot'
import { FnError } from './errors'

/** A JSON object: what `typeof x === 'object'` says, minus null and arrays. */
export function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value)
}

/** Shorten a value for an error message; whatever it is, the result is at most ~`max` chars. */
export function excerpt(text: string, max = 60): string {
  return text.length > max ? `${text.slice(0, max)}…` : text
}

/** The JSON type name of a value, for messages: 'null', 'array', 'object', 'string', ... */
export function typeName(value: unknown): string {
  if (value === null) return 'null'
  if (Array.isArray(value)) return 'array'
  return typeof value
}

/** One valibot issue as { path, problem }, with the received value shortened. */
function describe(issue: v.BaseIssue<unknown>): { path: string; problem: string } {
  const path = v.getDotPath(issue)
  if (path === null) return { path: '(root)', problem: problem(issue) }
  return { path, problem: issue.input === undefined ? 'missing' : problem(issue) }
}

function problem(issue: v.BaseIssue<unknown>): string {
  if (issue.type === 'custom') return issue.message
  const expected = issue.expected ?? issue.type.replaceAll('_', ' ')
  return `expected ${expected}, received ${excerpt(issue.received)}`
}

/**
 * Validate `value` with `schema` or throw an FnError whose message names every bad field (up to
 * three, then a count) and whose details list all of them as { path, problem }.
 */
export function parseWith<T>(
  schema: v.GenericSchema<unknown, T>,
  value: unknown,
  code: string,
  what: string,
): T {
  const result = v.safeParse(schema, value)
  if (result.success) return result.output
  const issues = result.issues.map(describe)
  const shown = issues
    .slice(0, 3)
    .map((issue) => `${issue.path}: ${issue.problem}`)
    .join('; ')
  const more = issues.length > 3 ? ` (and ${issues.length - 3} more)` : ''
  throw new FnError(code, `[fn] invalid ${what}: ${shown}${more}`, { details: { issues } })
}

/** A schema for any JSON object (valibot on its own also takes arrays as objects). */
export function anyObject<T extends Record<string, unknown>>() {
  return v.custom<T>(isRecord, (issue) => `expected an object, received ${typeName(issue.input)}`)
}

/** A valibot object schema that refuses arrays. Unknown keys are dropped. */
export function jsonObject<const TEntries extends v.ObjectEntries>(entries: TEntries) {
  return v.pipe(anyObject<v.InferInput<v.ObjectSchema<TEntries, undefined>>>(), v.object(entries))
}
