/** Where a parsed value came from, so that later checks (entry, env) can point into fn.yaml. */
export interface Origin {
  file: string
  /** Field path (`entry`, `env.API_KEY`) -> 1-based position of its value. */
  positions: Map<string, { line: number; column: number }>
}

/** Manifest objects and their `env` records -> where they were parsed from. Invisible to users. */
export const origins: WeakMap<object, Origin> = new WeakMap()

export function positionOf(
  value: object | undefined,
  path: string,
): { file?: string; line?: number; column?: number } {
  if (value === undefined) return {}
  const origin = origins.get(value)
  if (origin === undefined) return {}
  const position = origin.positions.get(path)
  return position === undefined
    ? { file: origin.file }
    : { file: origin.file, line: position.line, column: position.column }
}
