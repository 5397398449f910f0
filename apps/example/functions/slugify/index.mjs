// slugify: turns a title into a URL slug (Node, stdio protocol).
let raw = ''
for await (const chunk of process.stdin) raw += chunk
const request = JSON.parse(raw)
const title = String(request.input?.title ?? '')
const slug = title
  .normalize('NFKD')
  .replace(/[\u0300-\u036f]/g, '')
  .toLowerCase()
  .replace(/[^a-z0-9]+/g, '-')
  .replace(/^-+|-+$/g, '')
process.stdout.write(
  JSON.stringify({ request_id: request.request_id, success: true, output: { slug } }),
)
