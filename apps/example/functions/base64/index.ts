// base64: encodes or decodes UTF-8 text as base64 (Deno, handler, warm).
interface Input {
  text: string
  decode?: boolean
}

export default function base64(input: Input): { result: string } {
  if (typeof input?.text !== 'string') throw new TypeError('input.text must be a string')
  if (input.decode) {
    const bytes = Uint8Array.from(atob(input.text), (c) => c.charCodeAt(0))
    return { result: new TextDecoder().decode(bytes) }
  }
  const bytes = new TextEncoder().encode(input.text)
  return { result: btoa(String.fromCharCode(...bytes)) }
}
