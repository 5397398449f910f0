/**
 * A one-line progress display on a TTY (spinner, count, elapsed time) that other lines print
 * above; elsewhere it prints nothing but those lines.
 */
import type { Style } from './style'

const FRAMES = ['⠋', '⠙', '⠹', '⠸', '⠼', '⠴', '⠦', '⠧', '⠇', '⠏']

export class Progress {
  private frame = 0
  private timer: NodeJS.Timeout | undefined
  private readonly started = performance.now()
  private status = ''

  /**
   * @param stream where the progress line is drawn (stderr), only when it is a TTY
   * @param style that stream's style
   * @param out where permanent lines go (stdout)
   */
  constructor(
    private readonly stream: NodeJS.WriteStream,
    private readonly style: Style,
    private readonly out: NodeJS.WritableStream = stream,
  ) {}

  /** Starts redrawing `status` (TTY only). */
  start(status: string): void {
    this.status = status
    if (!this.style.tty) return
    this.draw()
    this.timer = setInterval(() => this.draw(), 80)
    this.timer.unref()
  }

  update(status: string): void {
    this.status = status
    if (this.timer) this.draw()
  }

  /** Prints a permanent line above the progress line. */
  line(text: string): void {
    if (this.timer) this.stream.write('\r\u001b[2K')
    this.out.write(`${text}\n`)
    if (this.timer) this.draw()
  }

  /** Removes the progress line. */
  stop(): void {
    if (!this.timer) return
    clearInterval(this.timer)
    this.timer = undefined
    this.stream.write('\r\u001b[2K')
  }

  elapsed(): string {
    return seconds(performance.now() - this.started)
  }

  private draw(): void {
    const spinner = this.style.cyan(FRAMES[this.frame++ % FRAMES.length] ?? '')
    this.stream.write(`\r\u001b[2K${spinner} ${this.status} ${this.style.dim(this.elapsed())}`)
  }
}

export const seconds = (ms: number): string => `${(ms / 1000).toFixed(1)}s`
