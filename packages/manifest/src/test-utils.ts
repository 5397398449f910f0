import { mkdir, mkdtemp, realpath, rm, symlink, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { dirname, join } from 'node:path'
import { afterEach } from 'vitest'

/** A file's content, a symlink (`{ link: target }`) or an empty folder (`{ dir: true }`). */
export type TreeItem = string | { link: string } | { dir: true }

const created: string[] = []

afterEach(async () => {
  await Promise.all(created.splice(0).map((dir) => rm(dir, { recursive: true, force: true })))
})

/** Creates a real temp folder holding `files` (paths relative to it); removed after each test. */
export async function tree(files: Record<string, TreeItem> = {}): Promise<string> {
  const root = await realpath(await mkdtemp(join(tmpdir(), 'fn-manifest-')))
  created.push(root)
  await addFiles(root, files)
  return root
}

export async function addFiles(root: string, files: Record<string, TreeItem>): Promise<void> {
  for (const [path, item] of Object.entries(files)) {
    const target = join(root, path)
    await mkdir(dirname(target), { recursive: true })
    if (typeof item === 'string') await writeFile(target, item)
    else if ('link' in item) await symlink(item.link, target)
    else await mkdir(target, { recursive: true })
  }
}

/** The error `promise` rejects with; fails when it resolves. */
export async function rejection(
  promise: Promise<unknown>,
): Promise<Error & Record<string, unknown>> {
  try {
    await promise
  } catch (error) {
    return error as Error & Record<string, unknown>
  }
  throw new Error('expected the promise to reject')
}
