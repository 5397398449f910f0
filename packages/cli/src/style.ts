/**
 * Colours and terminal facts, decided once per stream: colour only on a TTY that supports it,
 * never with NO_COLOR (and always with FORCE_COLOR), as node:tty's hasColors() decides.
 */
import { styleText } from 'node:util'

type Format = Parameters<typeof styleText>[0]

export interface Style {
  /** The stream is an interactive terminal (progress displays, tables). */
  readonly tty: boolean
  /** Colours are on for this stream. */
  readonly color: boolean
  paint(format: Format, text: string): string
  bold(text: string): string
  dim(text: string): string
  red(text: string): string
  green(text: string): string
  yellow(text: string): string
  cyan(text: string): string
}

export function styleFor(stream: NodeJS.WriteStream): Style {
  const tty = stream.isTTY === true
  const env = process.env
  const forced = env['FORCE_COLOR'] !== undefined && env['FORCE_COLOR'] !== '0'
  const color =
    !env['NO_COLOR'] &&
    (forced || (tty && typeof stream.hasColors === 'function' && stream.hasColors()))
  const paint = (format: Format, text: string) =>
    color ? styleText(format, text, { validateStream: false }) : text
  return {
    tty,
    color,
    paint,
    bold: (t) => paint('bold', t),
    dim: (t) => paint('dim', t),
    red: (t) => paint('red', t),
    green: (t) => paint('green', t),
    yellow: (t) => paint('yellow', t),
    cyan: (t) => paint('cyan', t),
  }
}

/** Visible width of a string, ignoring ANSI colour codes. */
export function visibleLength(text: string): number {
  return text.replace(/\u001b\[[0-9;]*m/g, '').length
}

/** Pads `text` to `width` visible columns. */
export function pad(text: string, width: number): string {
  return text + ' '.repeat(Math.max(0, width - visibleLength(text)))
}

/** A plain text table: the header row dimmed, columns padded to their widest cell. */
export function table(style: Style, header: string[], rows: string[][]): string {
  const widths = header.map((h, i) =>
    Math.max(visibleLength(h), ...rows.map((r) => visibleLength(r[i] ?? ''))),
  )
  const line = (cells: string[]) =>
    cells
      .map((c, i) => (i === cells.length - 1 ? c : pad(c, widths[i] ?? 0)))
      .join('  ')
      .trimEnd()
  return [style.dim(line(header)), ...rows.map(line)].join('\n')
}
