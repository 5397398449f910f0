/**
 * The little of go.mod the adapter needs to read itself: local `replace` targets (they are part
 * of the build key and must be made absolute when the module is copied into the build folder).
 */
import { isAbsolute, resolve } from 'node:path'

export interface LocalReplace {
  /** The replaced module, `path` or `path@version`, as `go mod edit -replace` takes it. */
  old: string
  /** The replacement as written in go.mod, e.g. `../shared`. */
  written: string
  /** The replacement as an absolute directory. */
  dir: string
}

/** Local-directory `replace` directives of a go.mod (single-line and block forms). */
export function localReplaces(gomod: string, moduleDir: string): LocalReplace[] {
  const out: LocalReplace[] = []
  let inBlock = false
  for (const raw of gomod.split('\n')) {
    const line = stripComment(raw).trim()
    if (!line) continue
    let directive: string | undefined
    if (inBlock) {
      if (line === ')') {
        inBlock = false
        continue
      }
      directive = line
    } else if (/^replace\s*\($/.test(line)) {
      inBlock = true
      continue
    } else if (/^replace\s/.test(line)) {
      directive = line.slice('replace'.length).trim()
    }
    if (!directive) continue
    const [left, right] = directive.split('=>').map((s) => s.trim())
    if (!left || !right) continue
    const oldParts = tokens(left)
    const newParts = tokens(right)
    const target = newParts[0]
    // A local replacement has no version and is a path (go.mod: starts with ./ ../ or /).
    if (!target || newParts.length !== 1 || !/^(\.{1,2}\/|\/)/.test(target)) continue
    const old = oldParts.length === 2 ? `${oldParts[0]}@${oldParts[1]}` : (oldParts[0] ?? '')
    if (!old) continue
    out.push({
      old,
      written: target,
      dir: isAbsolute(target) ? target : resolve(moduleDir, target),
    })
  }
  return out
}

function stripComment(line: string): string {
  // `//` inside a quoted path is not a comment; go.mod paths rarely quote, but be exact.
  let quoted: string | undefined
  for (let i = 0; i < line.length; i++) {
    const c = line[i]
    if (quoted) {
      if (c === quoted) quoted = undefined
      continue
    }
    if (c === '"' || c === '`') quoted = c
    else if (c === '/' && line[i + 1] === '/') return line.slice(0, i)
  }
  return line
}

function tokens(text: string): string[] {
  return (text.match(/"(?:[^"\\]|\\.)*"|`[^`]*`|\S+/g) ?? []).map((t) =>
    t.startsWith('"') ? (JSON.parse(t) as string) : t.startsWith('`') ? t.slice(1, -1) : t,
  )
}

/** `1.26.8` -> `1.26`: the `go` line of a generated go.mod. */
export function languageVersion(version: string): string {
  const m = /^(\d+)\.(\d+)/.exec(version)
  return m ? `${m[1]}.${m[2]}` : version
}
