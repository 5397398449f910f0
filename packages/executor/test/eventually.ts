/** Polls until `check` passes: the watcher and reloads are asynchronous by nature. */
export async function eventually<T>(check: () => Promise<T>, ms = 30_000): Promise<T> {
  const until = Date.now() + ms
  for (;;) {
    try {
      return await check()
    } catch (err) {
      if (Date.now() > until) throw err
      await new Promise((r) => setTimeout(r, 50))
    }
  }
}
