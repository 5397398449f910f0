import { existsSync } from 'node:fs'
import { mkdir, writeFile } from 'node:fs/promises'
import { join, relative, resolve } from 'node:path'
import { CliError, EXIT, type ExitCode } from '../errors'
import type { CliRuntime } from '../runtimes'
import { styleFor } from '../style'
import { templateFiles } from '../templates'

export interface NewCommandOptions {
  runtime: CliRuntime
  dir: string
  json?: boolean
}

/** Scaffolds `<dir>/<name>` for a runtime; never overwrites anything. */
export async function newCommand(name: string, options: NewCommandOptions): Promise<ExitCode> {
  const target = resolve(options.dir, name)
  const shown = relative(process.cwd(), target) || target
  if (existsSync(target)) {
    throw new CliError(
      `[fn] ${shown} already exists: fn new never overwrites; pick another name or remove the folder`,
    )
  }
  const files = templateFiles(name, options.runtime)
  await mkdir(target, { recursive: true })
  for (const [file, content] of Object.entries(files)) {
    await writeFile(join(target, file), content, { flag: 'wx' })
  }
  const names = Object.keys(files).sort()
  if (options.json) {
    const result = { name, runtime: options.runtime, dir: target, files: names }
    process.stdout.write(`${JSON.stringify(result)}\n`)
    return EXIT.OK
  }
  const s = styleFor(process.stdout)
  const dirFlag = resolve(options.dir) === resolve('functions') ? '' : ` --dir ${options.dir}`
  const lines = [
    `${s.green('✓')} created ${s.bold(name)} (${options.runtime}) in ${shown}`,
    ...names.map((f) => `    ${join(shown, f)}`),
    '',
    `  try it:  fn invoke ${name}${dirFlag} --input '{"name":"you"}'`,
    `  serve:   fn dev${dirFlag}   then   curl -XPOST localhost:8787/functions/${name} -d '{"name":"you"}'`,
  ]
  process.stdout.write(`${lines.join('\n')}\n`)
  return EXIT.OK
}
