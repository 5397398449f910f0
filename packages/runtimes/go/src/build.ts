/**
 * One Go build: copy the function's module into a fresh folder (adding a generated go.mod when it
 * has none, and the generated `fn_main.go` for handler functions), run `go build` once, and leave
 * the binary in the output folder. Runs only when the build cache misses.
 */
import { copyFile, mkdir, rm, writeFile } from 'node:fs/promises'
import { dirname, join } from 'node:path'
import type { FunctionDefinition } from '@fn/manifest'
import { FnError, isFnError, type RuntimeInfo, runBuildStep } from '@fn/runtime-core'
import { type LocalReplace, languageVersion } from './gomod'

/** The module path of a generated go.mod. */
export const GENERATED_MODULE = 'function'
/** The file a handler build adds to the function's package main. */
export const SHIM_FILE = 'fn_main.go'

/** Everything a build needs; all of it is covered by the build key. */
export interface BuildPlan {
  fn: FunctionDefinition
  runtime: RuntimeInfo
  /** A handler build (the generated main serves `Handler`) or a stdio build (the user's main). */
  handler: boolean
  /** Files of the function folder to copy, relative, '/'-separated. */
  files: string[]
  /** The function folder has its own go.mod (else one is generated). */
  hasGoMod: boolean
  replaces: LocalReplace[]
  /** vendor/modules.txt present: build from vendor/ instead of the module proxy. */
  vendor: boolean
  /** Folder of the entry file, relative to the function folder ('.' for the root). */
  entryDir: string
  /** File name of the binary in the output folder. */
  binary: string
  /** `go build` flags after the fixed ones. */
  flags: readonly string[]
  /** Environment of the go command (host Go settings passed through). */
  env: Record<string, string>
  timeoutMs: number
  /** The handler shim source (shim/main.go.tmpl). */
  shim: string
}

/** Builds into `outDir`; rejects with BUILD_FAILED carrying the compiler output. */
export async function buildFunction(plan: BuildPlan, outDir: string): Promise<void> {
  const src = join(outDir, 'src')
  try {
    await mkdir(src, { recursive: true })
    for (const rel of plan.files) {
      const to = join(src, rel)
      await mkdir(dirname(to), { recursive: true })
      await copyFile(join(plan.fn.dir, rel), to)
    }
    if (!plan.hasGoMod) {
      await writeFile(
        join(src, 'go.mod'),
        `module ${GENERATED_MODULE}\n\ngo ${languageVersion(plan.runtime.version)}\n`,
      )
    }
    if (plan.handler) await writeFile(join(src, plan.entryDir, SHIM_FILE), plan.shim)
    for (const r of plan.replaces) {
      await go(plan, src, ['mod', 'edit', `-replace=${r.old}=${r.dir}`], 'go mod edit')
    }

    const args = [
      'build',
      ...(plan.vendor ? [] : ['-mod=mod']),
      '-trimpath',
      '-buildvcs=false',
      ...plan.flags,
      '-o',
      join(outDir, plan.binary),
      plan.entryDir === '.' ? '.' : `./${plan.entryDir}`,
    ]
    try {
      await go(plan, src, args, 'go build')
    } catch (err) {
      const output = isFnError(err) ? String((err.details as { output?: string })?.output) : ''
      if (plan.hasGoMod || !/no required module provides package/.test(output)) throw err
      // No go.mod of its own but third-party imports: resolve them (latest versions) once.
      await go(plan, src, ['mod', 'tidy'], 'go mod tidy')
      await go(plan, src, args, 'go build')
    }
  } finally {
    await rm(src, { recursive: true, force: true })
  }
}

/**
 * One go command, under runtime-core's build step (BUILD_FAILED with the output's tail), its
 * message pointed at the user's folder instead of the temporary copy, with a hint where one helps.
 */
async function go(plan: BuildPlan, cwd: string, args: string[], what: string): Promise<void> {
  const label = `function "${plan.fn.name}"`
  try {
    await runBuildStep({
      spec: { command: plan.runtime.bin, args, env: plan.env, cwd },
      what,
      label,
      timeoutMs: plan.timeoutMs,
      tailBytes: 64 * 1024,
    })
  } catch (err) {
    if (!isFnError(err) || err.code !== 'BUILD_FAILED') throw err
    const details = err.details as { output: string; timedOut: boolean; exitCode: number | null }
    // The compiler names files absolutely or relative to the copy ("./main.go"): show the user's.
    const output = details.output.split(cwd).join(plan.fn.dir).replace(/^\.\//gm, `${plan.fn.dir}/`)
    const why = details.timedOut
      ? `${what} did not finish within ${plan.timeoutMs} ms (raise go({ buildTimeoutMs }))`
      : `${what} failed (exit code ${details.exitCode})`
    const hint = hintFor(plan, output)
    throw new FnError(
      'BUILD_FAILED',
      `[fn] ${label} (${plan.fn.dir}): ${why}${hint ? `; ${hint}` : ''}:\n${output}`,
      { details: { function: plan.fn.name, ...details, output }, cause: err },
    )
  }
}

function hintFor(plan: BuildPlan, text: string): string | undefined {
  if (plan.handler && /undefined: Handler\b/.test(text)) {
    return 'a handler function declares `func Handler(ctx context.Context, input json.RawMessage, fctx *FnContext) (any, error)` in package main (or set protocol: stdio for a program with its own main)'
  }
  if (plan.handler && /\bmain redeclared\b/.test(text)) {
    return 'a handler function has no func main(): fn generates it; remove main() or set protocol: stdio to keep it'
  }
  if (plan.handler && /\bFn[A-Za-z]*\b.*redeclared|\bfn[A-Za-z]*\b.*redeclared/.test(text)) {
    return 'identifiers starting with "fn"/"Fn" are reserved in handler functions (the generated fn_main.go defines them)'
  }
  if (!plan.handler && /function main is undeclared/.test(text)) {
    return 'a stdio function is a complete program with func main(); for a Handler without main() use protocol: handler'
  }
  return undefined
}
