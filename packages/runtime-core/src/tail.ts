/** Keeps the first `limit` bytes of a stream and counts the rest: memory stays bounded. */
export class CappedBuffer {
  private parts: Buffer[] = []
  private kept = 0
  /** Bytes seen in total, kept or not. */
  total = 0

  constructor(readonly limit: number) {}

  push(chunk: Buffer): boolean {
    this.total += chunk.length
    const room = this.limit - this.kept
    if (room > 0) {
      const part = chunk.length <= room ? chunk : chunk.subarray(0, room)
      this.parts.push(part)
      this.kept += part.length
    }
    return this.total <= this.limit
  }

  get overflowed(): boolean {
    return this.total > this.limit
  }

  toBuffer(): Buffer {
    if (this.parts.length !== 1) this.parts = [Buffer.concat(this.parts)]
    return this.parts[0] ?? Buffer.alloc(0)
  }
}

/** Keeps the last `limit` bytes of a stream (for stderr tails in error messages). */
export class TailBuffer {
  private parts: Buffer[] = []
  private kept = 0

  constructor(readonly limit: number) {}

  push(chunk: Buffer): void {
    this.parts.push(chunk)
    this.kept += chunk.length
    while (this.kept - (this.parts[0]?.length ?? 0) >= this.limit) {
      this.kept -= this.parts.shift()!.length
    }
  }

  toString(): string {
    const all = Buffer.concat(this.parts)
    const start = Math.max(0, all.length - this.limit)
    // Skip UTF-8 continuation bytes so the tail starts on a character boundary.
    let i = start
    while (i < all.length && i - start < 4 && ((all[i] ?? 0) & 0xc0) === 0x80) i++
    return all.subarray(i).toString('utf8')
  }
}
