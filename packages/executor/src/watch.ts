import watcher from '@parcel/watcher'

/** Folders whose changes never matter to a function (dependencies, VCS, build outputs, caches). */
export const IGNORED_GLOBS: readonly string[] = [
  '**/node_modules',
  '**/node_modules/**',
  // The link fn makes to a function's installed dependencies, while it is renamed into place.
  '**/node_modules.fn-*',
  '**/.git/**',
  '**/.fn/**',
  '**/dist/**',
  '**/__pycache__/**',
  '**/.venv/**',
  '**/.cache/**',
  '**/*.swp',
  '**/*~',
]

/**
 * Calls `onChange` once per burst of relevant changes under `dir` (an editor's save-rename dance
 * is one change): after `debounceMs` of quiet.
 */
export async function watchFolder(
  dir: string,
  debounceMs: number,
  onChange: () => void,
  relevant: (path: string) => boolean = () => true,
): Promise<() => Promise<void>> {
  let timer: NodeJS.Timeout | undefined
  const subscription = await watcher.subscribe(
    dir,
    (err, events) => {
      if (err || !events.some((e) => relevant(e.path))) return
      clearTimeout(timer)
      timer = setTimeout(onChange, debounceMs)
    },
    { ignore: [...IGNORED_GLOBS] },
  )
  return async () => {
    clearTimeout(timer)
    await subscription.unsubscribe()
  }
}
