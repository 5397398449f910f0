/**
 * Builds cached by content: a key is the hash of the inputs, an output folder is complete only
 * once renamed into place, and the same key is never built twice at once in this process.
 */
import { createHash } from 'node:crypto'
import { existsSync } from 'node:fs'
import { mkdir, readdir, readFile, rename, rm } from 'node:fs/promises'
import { join, relative, sep } from 'node:path'

const IGNORED = new Set(['node_modules', '.git', '.fn', '.venv', '__pycache__', 'dist', '.turbo'])

/** Every file under `dir` (sorted, relative, '/'-separated) that `include` accepts. */
export async function listFiles(
  dir: string,
  include: (rel: string) => boolean = () => true,
): Promise<string[]> {
  const out: string[] = []
  async function walk(d: string): Promise<void> {
    const entries = await readdir(d, { withFileTypes: true })
    for (const e of entries) {
      if (IGNORED.has(e.name) || e.name.startsWith('.')) continue
      const full = join(d, e.name)
      if (e.isDirectory()) await walk(full)
      else if (e.isFile()) {
        const rel = relative(dir, full).split(sep).join('/')
        if (include(rel)) out.push(rel)
      }
    }
  }
  await walk(dir)
  return out.sort()
}

/** A hex sha256 over the files' names and contents plus any extra strings (versions, flags). */
export async function hashInputs(
  dir: string,
  files: string[],
  extra: string[] = [],
): Promise<string> {
  const h = createHash('sha256')
  for (const x of extra) h.update(`x:${x}\0`)
  for (const rel of files) {
    h.update(`f:${rel}\0`)
    h.update(await readFile(join(dir, rel)))
    h.update('\0')
  }
  return h.digest('hex')
}

export interface BuildCacheStats {
  hits: number
  builds: number
}

export class BuildCache {
  private readonly inflight = new Map<string, Promise<string>>()
  readonly stats: BuildCacheStats = { hits: 0, builds: 0 }

  constructor(readonly root: string) {}

  /** The folder holding `key`'s outputs, built by `build(tmpDir)` if not cached yet. */
  ensure(key: string, build: (outDir: string) => Promise<void>): Promise<string> {
    const dir = join(this.root, key)
    const running = this.inflight.get(key)
    if (running) return running
    if (existsSync(dir)) {
      this.stats.hits++
      return Promise.resolve(dir)
    }
    const p = (async () => {
      const tmp = `${dir}.tmp-${process.pid}-${Math.random().toString(36).slice(2)}`
      await mkdir(tmp, { recursive: true })
      try {
        this.stats.builds++
        await build(tmp)
        try {
          await rename(tmp, dir)
        } catch (err) {
          // Another process finished the same key first: theirs is as good as ours.
          if (!existsSync(dir)) throw err
          await rm(tmp, { recursive: true, force: true })
        }
        return dir
      } catch (err) {
        await rm(tmp, { recursive: true, force: true })
        throw err
      }
    })().finally(() => this.inflight.delete(key))
    this.inflight.set(key, p)
    return p
  }
}

/**
 * One BuildCache per cache folder (an adapter may serve executors with different folders), with
 * counters summed over all of them.
 */
export class BuildCaches {
  private readonly caches = new Map<string, BuildCache>()

  /** The cache rooted at `root`, made on first use. */
  at(root: string): BuildCache {
    let cache = this.caches.get(root)
    if (!cache) {
      cache = new BuildCache(root)
      this.caches.set(root, cache)
    }
    return cache
  }

  /** Builds and hits so far, over every folder. */
  stats(): BuildCacheStats {
    const total = { hits: 0, builds: 0 }
    for (const cache of this.caches.values()) {
      total.hits += cache.stats.hits
      total.builds += cache.stats.builds
    }
    return total
  }
}
