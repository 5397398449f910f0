// Quick warm-path probe, not part of `pnpm bench`: p50/p90 of sequential warm calls.
//   node micro.mjs <function folder> <node|python|...>
import { loadFunction } from '@fn/manifest'
import { createRunner } from '@fn/runtime-core'
import { node } from '@fn/runtime-node'
import { python } from '@fn/runtime-python'

const adapters = { node, python }
const fn = await loadFunction(process.argv[2])
const r = await createRunner(adapters[process.argv[3] ?? fn.runtime](), fn, {
  cacheDir: '/tmp/fn-micro-cache',
})
const req = (i) => ({
  request_id: `r${i}`,
  function: 'x',
  input: { n: 1, text: 'hello' },
  context: {},
})
for (let i = 0; i < 300; i++) await r.invoke(req(i))
for (let round = 0; round < 3; round++) {
  const t = []
  for (let i = 0; i < 3000; i++) {
    const s = performance.now()
    await r.invoke(req(i))
    t.push(performance.now() - s)
  }
  t.sort((a, b) => a - b)
  console.log('p50 µs', Math.round(t[1500] * 1000), 'p90', Math.round(t[2700] * 1000))
}
await r.close()
