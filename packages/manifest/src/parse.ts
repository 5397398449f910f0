import * as v from 'valibot'
import {
  type Alias,
  type Document,
  isAlias,
  isMap,
  isScalar,
  isSeq,
  LineCounter,
  type Pair,
  parseDocument,
  Scalar,
  visit,
  type YAMLError,
  type Node as YamlNode,
} from 'yaml'
import { ENV_NAME_PATTERN } from './env'
import { type IssueInput, ManifestError, makeIssue } from './errors'
import { origins } from './positions'
import {
  BUILD_KEYS,
  type FieldName,
  fieldSchemas,
  NAME_PATTERN,
  PERMISSION_KEYS,
  POOL_KEYS,
  REQUIRED_EXPECTED,
  ROUTE_KEYS,
  TOP_KEYS,
} from './schema'
import { closest } from './suggest'
import type { Manifest, ManifestIssue } from './types'

/** Most values an fn.yaml may expand to (aliases can multiply a small file). */
const MAX_VALUES = 100_000

const INVALID: unique symbol = Symbol('invalid')
type Plain = unknown

interface Position {
  line?: number
  column?: number
}

interface Context {
  file: string
  text: string
  lines: LineCounter
  doc: Document
  issues: ManifestIssue[]
  budget: number
  aliases: Map<Alias, YamlNode | undefined>
}

/** Keys checked for typos, by the field whose value is a mapping of known keys. */
const NESTED_KEYS: Partial<Record<FieldName, readonly string[]>> = {
  pool: POOL_KEYS,
  permissions: PERMISSION_KEYS,
  build: BUILD_KEYS,
}

/** Object keys that valibot records drop in silence; env rejects them instead. */
const RESERVED_KEYS = new Set(['__proto__', 'constructor', 'prototype'])

const PICKLISTS: Record<string, readonly string[]> = {
  protocol: ['handler', 'stdio'],
  mode: ['warm', 'oneshot'],
}

/**
 * Parses and validates the text of an fn.yaml. `file` is only used in messages. An empty document
 * is an empty manifest. Throws a ManifestError listing every problem of the file (YAML syntax
 * errors, unknown keys with the nearest known key, wrong types, bad values), each with its line
 * and column; never any other error.
 */
export function parseManifest(text: string, file: string): Manifest {
  const lines = new LineCounter()
  let doc: Document
  try {
    doc = parseDocument(String(text), { lineCounter: lines, prettyErrors: false, uniqueKeys: true })
  } catch (cause) {
    const issue = makeIssue({ file, path: '', what: 'cannot parse YAML', hint: errorText(cause) })
    throw new ManifestError(file, [issue], { cause })
  }
  const ctx: Context = {
    file,
    text: String(text),
    lines,
    doc,
    issues: [],
    budget: MAX_VALUES,
    aliases: new Map(),
  }
  if (doc.errors.length > 0) {
    throw new ManifestError(
      file,
      doc.errors.map((error) => yamlIssue(ctx, error)),
    )
  }
  try {
    return validate(ctx)
  } catch (cause) {
    if (cause instanceof ManifestError) throw cause
    // A bug of ours must still surface as the one error type parseManifest promises.
    const issue = makeIssue({
      file,
      path: '',
      what: 'cannot read manifest',
      hint: errorText(cause),
    })
    throw new ManifestError(file, [issue], { cause })
  }
}

function validate(ctx: Context): Manifest {
  const root = deref(ctx, ctx.doc.contents)
  const manifest: Manifest = {}
  if (root === undefined) throw new ManifestError(ctx.file, ctx.issues)
  if (isNull(root)) return remember(ctx, manifest, new Map())
  if (!isMap(root)) {
    report(ctx, root, {
      path: '',
      what: 'invalid fn.yaml',
      expected: 'a mapping of fields ("key: value" lines) at the top level',
      found: plainQuiet(root),
      hasFound: true,
    })
    throw new ManifestError(ctx.file, ctx.issues)
  }

  const fields = new Map<FieldName, YamlNode>()
  for (const pair of root.items) {
    const key = keyName(ctx, pair, '')
    if (key === undefined) continue
    if (!(TOP_KEYS as readonly string[]).includes(key)) {
      unknownKey(ctx, pair, key, '', TOP_KEYS)
      continue
    }
    const value = deref(ctx, pair.value as YamlNode | null)
    if (value === undefined) continue
    if (isNull(value) && key !== 'sample_input') continue
    fields.set(key as FieldName, value)
  }

  for (const [key, node] of fields) {
    const output = validateField(ctx, key, node)
    if (output !== INVALID) assign(manifest, key, output)
  }
  crossCheck(ctx, manifest, fields)

  if (ctx.issues.length > 0) throw new ManifestError(ctx.file, sortIssues(ctx.issues))
  return remember(ctx, manifest, fields)
}

function validateField(ctx: Context, key: FieldName, node: YamlNode): Plain {
  let raw: Plain
  const nested = NESTED_KEYS[key]
  if (nested !== undefined && isMap(node)) raw = knownFields(ctx, node, `${key}.`, nested)
  else if (key === 'routes' && isSeq(node)) {
    const items = node.items.map((item, index) => {
      const value = deref(ctx, item as YamlNode | null)
      if (value !== undefined && isMap(value)) {
        return knownFields(ctx, value, `routes[${index}].`, ROUTE_KEYS)
      }
      return value === undefined ? INVALID : plain(ctx, value, new Set())
    })
    raw = items.includes(INVALID) ? INVALID : items
  } else if (key === 'env' && isMap(node)) raw = envFields(ctx, node)
  else raw = plain(ctx, node, new Set())
  if (raw === INVALID) return INVALID

  const result = v.safeParse(fieldSchemas[key], raw, { abortEarly: false })
  if (result.success) return result.output
  for (const issue of result.issues) {
    for (const flat of flatten(issue as Issue, [])) schemaIssue(ctx, key, node, flat)
  }
  return INVALID
}

// ---------------------------------------------------------------------------------------------
// valibot issues -> ManifestIssues

interface PathItem {
  key: unknown
  origin?: 'key' | 'value'
}
interface Issue {
  kind: string
  type: string
  input: unknown
  message: string
  path?: PathItem[]
  issues?: Issue[]
}

/** A union issue is replaced by the issues of the branch that matched the input's type, if any. */
function flatten(issue: Issue, base: PathItem[]): Array<{ issue: Issue; path: PathItem[] }> {
  const path = [...base, ...(issue.path ?? [])]
  if (issue.type === 'union' && issue.issues !== undefined) {
    const specific = issue.issues.filter((s) => (s.path?.length ?? 0) > 0 || s.kind !== 'schema')
    if (specific.length > 0) return specific.flatMap((s) => flatten(s, path))
  }
  return [{ issue, path }]
}

function schemaIssue(
  ctx: Context,
  key: FieldName,
  fieldNode: YamlNode,
  { issue, path }: { issue: Issue; path: PathItem[] },
): void {
  const fieldPath = formatPath(key, path)
  const last = path[path.length - 1]
  const { node } = locate(ctx, fieldNode, path)
  if (issue.type === 'object' && last?.origin === 'key' && issue.input === undefined) {
    report(ctx, node, {
      path: fieldPath,
      what: `missing required field "${fieldPath}"`,
      expected: REQUIRED_EXPECTED[fieldPath.replace(/\[\d+\]/g, '[]')] ?? issue.message,
    })
    return
  }
  const input: IssueInput = {
    file: ctx.file,
    path: fieldPath,
    expected: issue.message,
    found: issue.input,
    hasFound: true,
  }
  if (last?.origin === 'key') input.what = `invalid key "${fieldPath}"`
  const options = PICKLISTS[fieldPath]
  if (options !== undefined && typeof issue.input === 'string') {
    const suggestion = closest(issue.input, options)
    if (suggestion !== undefined) input.hint = `did you mean "${suggestion}"?`
  }
  if (key === 'name' && typeof issue.input === 'string') {
    const slug = issue.input
      .toLowerCase()
      .replace(/[^a-z0-9_-]+/g, '-')
      .replace(/^[^a-z]+|-+$/g, '')
    if (NAME_PATTERN.test(slug)) input.hint = `did you mean "${slug}"?`
  }
  if (key === 'env' && issue.input === null) input.hint = 'write "" for an empty value'
  report(ctx, node, input)
}

function formatPath(key: string, path: PathItem[]): string {
  let out = key
  for (const item of path) {
    if (typeof item.key === 'number') out += `[${item.key}]`
    else out += `.${String(item.key)}`
  }
  return out
}

/** The YAML node a valibot path points at, or the deepest existing ancestor (found: false). */
function locate(
  ctx: Context,
  start: YamlNode,
  path: PathItem[],
): { node: YamlNode; found: boolean } {
  let current = start
  for (let i = 0; i < path.length; i++) {
    const item = path[i]!
    const node = deref(ctx, current)
    if (node === undefined) return { node: current, found: false }
    let next: YamlNode | null | undefined
    if (isMap(node)) {
      const pair = node.items.find(
        (p) => keyText(ctx, p.key as YamlNode | null) === String(item.key),
      )
      if (pair === undefined) return { node, found: false }
      const isLast = i === path.length - 1
      next = (isLast && item.origin === 'key' ? pair.key : pair.value) as YamlNode | null
      next ??= pair.key as YamlNode | null
    } else if (isSeq(node) && typeof item.key === 'number') {
      next = node.items[item.key] as YamlNode | null | undefined
    }
    if (next === undefined || next === null) return { node, found: false }
    current = next
  }
  return { node: current, found: true }
}

// ---------------------------------------------------------------------------------------------
// Cross-field rules

function crossCheck(ctx: Context, manifest: Manifest, fields: Map<FieldName, YamlNode>): void {
  if (manifest.protocol === 'stdio' && manifest.mode === 'warm') {
    report(ctx, fields.get('mode'), {
      path: 'mode',
      expected: '"oneshot" with protocol: stdio',
      found: 'warm',
      hint: 'a stdio function reads one request from stdin, answers and exits, so it cannot stay warm; use protocol: handler for warm workers, or remove mode',
    })
  }
  const min = manifest.pool?.min
  const max = manifest.pool?.max
  // Without pool.max, the default follows min (load.ts): only an explicit max can be too small.
  if (min !== undefined && max !== undefined && min > max) {
    const poolNode = fields.get('pool')
    const minNode =
      poolNode === undefined ? undefined : locate(ctx, poolNode, [{ key: 'min' }]).node
    report(ctx, minNode, {
      path: 'pool.min',
      expected: `at most ${max} (pool.max)`,
      found: min,
      hint: 'raise pool.max or lower pool.min',
    })
  }
}

// ---------------------------------------------------------------------------------------------
// YAML nodes -> plain values

function assign(manifest: Manifest, key: FieldName, value: unknown): void {
  const target = manifest as Record<string, unknown>
  switch (key) {
    case 'timeout':
      target.timeoutMs = value
      break
    case 'memory':
      target.memoryMb = value
      break
    case 'sample_input':
      target.sampleInput = value
      break
    default:
      target[key] = value
  }
}

/**
 * A mapping of known keys: typos are reported (and left out, so that the known keys are still
 * validated), empty values are dropped (an empty value means unset).
 */
function knownFields(ctx: Context, node: YamlNode, prefix: string, keys: readonly string[]): Plain {
  if (!isMap(node)) return plain(ctx, node, new Set())
  const entries: Array<[string, unknown]> = []
  let failed = false
  for (const pair of node.items) {
    const key = keyName(ctx, pair, prefix)
    if (key === undefined) {
      failed = true
      continue
    }
    if (!keys.includes(key)) {
      unknownKey(ctx, pair, key, prefix, keys)
      continue
    }
    const value = deref(ctx, pair.value as YamlNode | null)
    if (value !== undefined && isNull(value)) continue
    const converted = value === undefined ? INVALID : plain(ctx, value, new Set([node]))
    if (converted === INVALID) failed = true
    else entries.push([key, converted])
  }
  return failed ? INVALID : Object.fromEntries(entries)
}

/** env values: YAML numbers and booleans are kept as written (`1.10` stays "1.10"). */
function envFields(ctx: Context, node: YamlNode): Plain {
  if (!isMap(node)) return plain(ctx, node, new Set())
  const entries: Array<[string, unknown]> = []
  let invalid = false
  for (const pair of node.items) {
    const key = keyName(ctx, pair, 'env.')
    const value = deref(ctx, pair.value as YamlNode | null)
    if (key === undefined || value === undefined) {
      invalid = true
      continue
    }
    if (RESERVED_KEYS.has(key)) {
      report(ctx, pair.key as YamlNode, {
        path: `env.${key}`,
        what: `invalid key "env.${key}"`,
        expected: 'a variable name other than __proto__, constructor or prototype',
        found: key,
      })
      invalid = true
      continue
    }
    if (isScalar(value) && (typeof value.value === 'number' || typeof value.value === 'boolean')) {
      entries.push([key, value.source ?? String(value.value)])
      continue
    }
    const converted = plain(ctx, value, new Set([node]))
    if (converted === INVALID) invalid = true
    else entries.push([key, converted])
  }
  return invalid ? INVALID : Object.fromEntries(entries)
}

function plain(ctx: Context, start: YamlNode | null, ancestors: Set<YamlNode>): Plain {
  const node = deref(ctx, start)
  if (node === undefined) return INVALID
  if (ancestors.has(node)) {
    report(ctx, start ?? undefined, {
      path: '',
      what: 'recursive alias',
      hint: 'an alias may not refer to a value that contains it',
    })
    return INVALID
  }
  ctx.budget--
  if (ctx.budget === -1) {
    report(ctx, node, {
      path: '',
      what: 'fn.yaml is too large',
      hint: `it expands to more than ${MAX_VALUES} values (check aliases)`,
    })
  }
  if (ctx.budget < 0) return INVALID
  if (isScalar(node)) return node.value
  if (isMap(node)) {
    ancestors.add(node)
    const entries: Array<[string, unknown]> = []
    let invalid = false
    for (const pair of node.items) {
      const key = keyName(ctx, pair, '')
      const value = plain(ctx, pair.value as YamlNode | null, ancestors)
      if (key === undefined || value === INVALID) invalid = true
      else entries.push([key, value])
    }
    ancestors.delete(node)
    return invalid ? INVALID : Object.fromEntries(entries)
  }
  if (isSeq(node)) {
    ancestors.add(node)
    const items = node.items.map((item) => plain(ctx, item as YamlNode | null, ancestors))
    ancestors.delete(node)
    return items.includes(INVALID) ? INVALID : items
  }
  return INVALID
}

/** `plain` for describing a value in a message: reports nothing. */
function plainQuiet(node: YamlNode): unknown {
  if (isScalar(node)) return node.value
  if (isSeq(node)) return node.items
  if (isMap(node)) return {}
  return undefined
}

/** Follows aliases; an empty value becomes a null scalar; undefined after reporting a bad alias. */
function deref(ctx: Context, node: YamlNode | null | undefined): YamlNode | undefined {
  if (node === null || node === undefined) return NULL_NODE
  if (!isAlias(node)) return node
  let target = ctx.aliases.get(node)
  if (!ctx.aliases.has(node)) {
    try {
      target = node.resolve(ctx.doc) as YamlNode | undefined
    } catch {
      target = undefined
    }
    ctx.aliases.set(node, target)
  }
  if (target === undefined) {
    report(ctx, node, {
      path: '',
      what: `unknown alias "*${node.source}"`,
      hint: `define the anchor "&${node.source}" before using it`,
    })
    return undefined
  }
  return isAlias(target) ? deref(ctx, target) : target
}

const NULL_NODE: YamlNode = new Scalar(null)

function isNull(node: YamlNode): boolean {
  return isScalar(node) && node.value === null
}

function keyText(ctx: Context, node: YamlNode | null): string | undefined {
  if (node === null) return undefined
  const key = isAlias(node) ? ctx.aliases.get(node) : node
  return key !== undefined && isScalar(key) ? String(key.value) : undefined
}

function keyName(ctx: Context, pair: Pair, prefix: string): string | undefined {
  const keyNode = pair.key as YamlNode | null
  if (keyNode === null) {
    report(ctx, pair.value as YamlNode | null, {
      path: prefix.replace(/\.$/, ''),
      what: 'missing key',
      hint: 'every value needs a key in front of it ("key: value")',
    })
    return undefined
  }
  const node = deref(ctx, keyNode)
  if (node === undefined) return undefined
  if (!isScalar(node)) {
    report(ctx, keyNode, {
      path: prefix.replace(/\.$/, ''),
      what: 'invalid key',
      expected: 'a plain key such as "timeout"',
      found: plainQuiet(node),
      hasFound: true,
    })
    return undefined
  }
  return String(node.value)
}

function unknownKey(
  ctx: Context,
  pair: Pair,
  key: string,
  prefix: string,
  known: readonly string[],
): void {
  const suggestion = closest(key, known)
  const expected = `one of ${known.join(', ')}`
  const hint =
    suggestion !== undefined
      ? `did you mean "${suggestion}"?`
      : prefix === ''
        ? `known keys are ${known.join(', ')}`
        : `known keys of ${prefix.replace(/\.$/, '')} are ${known.join(', ')}`
  const issue = report(ctx, pair.key as YamlNode, {
    path: `${prefix}${key}`,
    what: `unknown key "${key}"`,
    hint,
  })
  issue.expected = expected
}

// ---------------------------------------------------------------------------------------------
// Positions and issues

function positionOf(ctx: Context, node: YamlNode | null | undefined): Position {
  const offset = node?.range?.[0]
  if (offset === undefined) return {}
  const { line, col } = ctx.lines.linePos(offset)
  return line > 0 ? { line, column: col } : { line: 1, column: offset + 1 }
}

function report(
  ctx: Context,
  node: YamlNode | null | undefined,
  input: Omit<IssueInput, 'file'>,
): ManifestIssue {
  const issue = makeIssue({ ...input, file: ctx.file, ...positionOf(ctx, node) })
  ctx.issues.push(issue)
  return issue
}

function yamlIssue(ctx: Context, error: YAMLError): ManifestIssue {
  const [start, end] = error.pos
  const { line, col } = ctx.lines.linePos(start)
  const at = line > 0 ? { line, column: col } : { line: 1, column: start + 1 }
  const firstLine = error.message.split('\n')[0]!
  switch (error.code) {
    case 'DUPLICATE_KEY':
      return makeIssue({
        file: ctx.file,
        ...at,
        path: '',
        what: `duplicate key ${JSON.stringify(keyAt(ctx, start) ?? ctx.text.slice(start, end))}`,
        hint: 'each key may appear once in a mapping: remove or merge the repeated one',
      })
    case 'MULTIPLE_DOCS':
      return makeIssue({
        file: ctx.file,
        ...at,
        path: '',
        what: 'a second YAML document',
        hint: 'fn.yaml holds one document: remove the "---" line and what follows, or merge it',
      })
    default:
      return makeIssue({ file: ctx.file, ...at, path: '', what: 'invalid YAML', hint: firstLine })
  }
}

/** The text of the mapping key that starts at `offset`. */
function keyAt(ctx: Context, offset: number): string | undefined {
  let found: string | undefined
  visit(ctx.doc, {
    Pair(_, pair) {
      const key = pair.key as YamlNode | null
      if (key?.range?.[0] === offset && isScalar(key)) {
        found = String(key.value)
        return visit.BREAK
      }
      return undefined
    },
  })
  return found
}

function sortIssues(issues: ManifestIssue[]): ManifestIssue[] {
  return issues
    .map((issue, index) => ({ issue, index }))
    .sort(
      (a, b) =>
        (a.issue.line ?? Number.MAX_SAFE_INTEGER) - (b.issue.line ?? Number.MAX_SAFE_INTEGER) ||
        (a.issue.column ?? 0) - (b.issue.column ?? 0) ||
        a.index - b.index,
    )
    .map(({ issue }) => issue)
}

function remember(ctx: Context, manifest: Manifest, fields: Map<FieldName, YamlNode>): Manifest {
  const positions = new Map<string, { line: number; column: number }>()
  for (const [key, node] of fields) {
    const at = positionOf(ctx, node)
    if (at.line !== undefined) positions.set(key, { line: at.line, column: at.column ?? 1 })
  }
  origins.set(manifest, { file: ctx.file, positions })
  const envNode = fields.get('env')
  if (manifest.env !== undefined && envNode !== undefined && isMap(envNode)) {
    const envPositions = new Map<string, { line: number; column: number }>()
    for (const pair of envNode.items) {
      const key = keyText(ctx, pair.key as YamlNode | null)
      if (key === undefined || !ENV_NAME_PATTERN.test(key)) continue
      const at = positionOf(ctx, (pair.value as YamlNode | null) ?? (pair.key as YamlNode))
      if (at.line !== undefined) {
        envPositions.set(`env.${key}`, { line: at.line, column: at.column ?? 1 })
      }
    }
    origins.set(manifest.env, { file: ctx.file, positions: envPositions })
  }
  return manifest
}

function errorText(error: unknown): string {
  return error instanceof Error ? error.message : String(error)
}
