import { describe, expect, it } from 'vitest'
import { Limiter } from './limiter'

describe('Limiter', () => {
  it('lets max callers in, queues the next and hands slots over in order', async () => {
    const l = new Limiter({ max: 2, maxQueue: 2 })
    const a = await l.acquire()
    await l.acquire()
    const order: number[] = []
    const c = l.acquire().then((r) => {
      order.push(3)
      return r
    })
    const d = l.acquire().then((r) => {
      order.push(4)
      return r
    })
    expect(l.running).toBe(2)
    expect(l.queued).toBe(2)
    await expect(l.acquire()).rejects.toMatchObject({ code: 'BUSY' })
    a()
    a() // releasing twice is harmless
    ;(await c)()
    await d
    expect(order).toEqual([3, 4])
    expect(l.running).toBe(2)
  })

  it('is BUSY after the wait timeout and CANCELLED on abort', async () => {
    const l = new Limiter({ max: 1, waitTimeoutMs: 50 })
    await l.acquire()
    await expect(l.acquire()).rejects.toMatchObject({
      code: 'BUSY',
      message: expect.stringContaining('50 ms'),
    })
    const ac = new AbortController()
    const p = l.acquire(ac.signal)
    ac.abort()
    await expect(p).rejects.toMatchObject({ code: 'CANCELLED' })
    expect(l.queued).toBe(0)
  })
})
