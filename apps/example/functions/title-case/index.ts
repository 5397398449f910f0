// title-case: Title Cases a sentence, keeping short words lower case (Bun, stdio protocol).
const request = JSON.parse(await Bun.stdin.text())
const small = new Set(['a', 'an', 'and', 'the', 'of', 'in', 'on', 'to', 'for'])
const words = String(request.input?.text ?? '')
  .toLowerCase()
  .split(/\s+/)
  .filter(Boolean)
const title = words
  .map((w: string, i: number) => (i > 0 && small.has(w) ? w : w[0]!.toUpperCase() + w.slice(1)))
  .join(' ')
console.log(JSON.stringify({ request_id: request.request_id, success: true, output: { title } }))
