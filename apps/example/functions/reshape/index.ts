// reshape: groups records by a key and sums a field (Deno, stdio protocol).
interface Input {
  records: Array<Record<string, unknown>>
  by: string
  sum: string
}
const request = JSON.parse(await new Response(Deno.stdin.readable).text())
const { records = [], by, sum } = (request.input ?? {}) as Input
const groups: Record<string, { count: number; total: number }> = {}
for (const r of records) {
  const key = String(r[by])
  groups[key] ??= { count: 0, total: 0 }
  groups[key].count++
  groups[key].total += Number(r[sum]) || 0
}
console.log(JSON.stringify({ request_id: request.request_id, success: true, output: { groups } }))
