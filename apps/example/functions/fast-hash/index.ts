// fast-hash: non-cryptographic hashes of a text with Bun's built-ins (Bun, handler, warm).
export default function fastHash(input: { text?: string }) {
  const text = String(input?.text ?? '')
  return {
    wyhash: Bun.hash(text).toString(16),
    crc32: Bun.hash.crc32(text).toString(16),
    bytes: Buffer.byteLength(text),
  }
}
