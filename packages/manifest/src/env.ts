// biome-ignore-all lint/suspicious/noTemplateCurlyInString: "${VAR}" is fn.yaml env syntax, not a template
import { ManifestError, makeIssue } from './errors'
import { origins } from './positions'
import type { ManifestIssue } from './types'

export const ENV_NAME_PATTERN: RegExp = /^[A-Za-z_][A-Za-z0-9_]*$/

export const ENV_VALUE_EXPECTED =
  'a string; "${NAME}" reads host variable NAME, "${NAME:-fallback}" falls back when it is unset or empty, "$${" writes a literal "${"'

type Part = string | { name: string; fallback?: string }
type Template = { ok: true; parts: Part[] } | { ok: false; reason: string }

/**
 * Splits an env value into literal text and `${NAME}` / `${NAME:-fallback}` references.
 * `$${` is a literal `${`; a `$` not followed by `{` is literal.
 */
export function parseTemplate(value: string): Template {
  const parts: Part[] = []
  let text = ''
  let i = 0
  while (i < value.length) {
    if (value.startsWith('$${', i)) {
      text += '${'
      i += 3
    } else if (value.startsWith('${', i)) {
      const close = value.indexOf('}', i + 2)
      if (close < 0) return { ok: false, reason: `"\${" at offset ${i} is never closed by "}"` }
      const inner = value.slice(i + 2, close)
      const match = /^([A-Za-z_][A-Za-z0-9_]*)(?::-([\s\S]*))?$/.exec(inner)
      if (match === null) {
        return { ok: false, reason: `"\${${inner}}" is not a variable reference like "\${NAME}"` }
      }
      const fallback = match[2]
      if (fallback?.includes('${')) {
        return {
          ok: false,
          reason: `"\${${inner}}" nests a reference in its fallback, which is not supported`,
        }
      }
      if (text !== '') parts.push(text)
      text = ''
      parts.push(fallback === undefined ? { name: match[1]! } : { name: match[1]!, fallback })
      i = close + 1
    } else {
      text += value[i]
      i++
    }
  }
  if (text !== '') parts.push(text)
  return { ok: true, parts }
}

/**
 * Interpolates `${VAR}` in every value of `env` from `hostEnv`. `${VAR:-fallback}` uses the
 * fallback when VAR is unset or empty; `$${` is a literal `${`. A variable that is not set (and has
 * no fallback) is an error naming it: never an empty string in silence. All missing variables are
 * reported at once, in a ManifestError for `file`.
 */
export function resolveEnv(
  env: Record<string, string>,
  hostEnv: Record<string, string | undefined>,
  file: string,
): Record<string, string> {
  const origin = origins.get(env)
  const issues: ManifestIssue[] = []
  const entries: Array<[string, string]> = []
  for (const [key, value] of Object.entries(env)) {
    const path = `env.${key}`
    const position = origin?.positions.get(path)
    const at = { file, path, line: position?.line, column: position?.column }
    if (typeof value !== 'string') {
      issues.push(makeIssue({ ...at, expected: ENV_VALUE_EXPECTED, found: value, hasFound: true }))
      continue
    }
    const template = parseTemplate(value)
    if (!template.ok) {
      issues.push(
        makeIssue({ ...at, expected: ENV_VALUE_EXPECTED, found: value, hint: template.reason }),
      )
      continue
    }
    let resolved = ''
    let complete = true
    for (const part of template.parts) {
      if (typeof part === 'string') {
        resolved += part
        continue
      }
      const host = Object.hasOwn(hostEnv, part.name) ? hostEnv[part.name] : undefined
      if (part.fallback !== undefined && (host === undefined || host === '')) {
        resolved += part.fallback
      } else if (host === undefined) {
        complete = false
        issues.push(
          makeIssue({
            ...at,
            what: `environment variable "${part.name}" is not set`,
            hint: `${path} reads "\${${part.name}}": set ${part.name} in the host environment, or give a fallback with "\${${part.name}:-value}"`,
          }),
        )
      } else {
        resolved += host
      }
    }
    if (complete) entries.push([key, resolved])
  }
  if (issues.length > 0) throw new ManifestError(file, issues)
  return Object.fromEntries(entries)
}
