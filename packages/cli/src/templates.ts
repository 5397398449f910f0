/**
 * What `fn new <name> --runtime X` writes: a working handler function (protocol: handler, warm)
 * and its fn.yaml. Every template reads `input.name`, logs through `ctx`, returns a greeting, and
 * passes `fn invoke <name>` as written (fn.yaml's sample_input is the default input).
 */
import type { CliRuntime } from './runtimes'

/** File name -> content, relative to the new function folder. */
export type TemplateFiles = Record<string, string>

const manifest = (
  name: string,
  runtime: CliRuntime,
  label: string,
) => `# fn.yaml of "${name}": every field is optional.
description: Says hello (${label})
runtime: ${runtime}
# protocol: handler (the default) loads the module once per worker and calls it for each request.
protocol: handler
timeout: 10s
# The input \`fn invoke ${name}\` sends when no --input is given.
sample_input:
  name: fn
# env:            # only what is named here reaches the function
#   GREETING: \${GREETING}
`

const jsHandler = (name: string, runtime: string, typed: boolean) => {
  const signature = typed
    ? `interface Input {
  name?: string
}

interface Context {
  request_id: string
  function: string
  log: { info(message: string, data?: unknown): void }
}

export default async function handler(input: Input | null, ctx: Context) {`
    : `/**
 * @param {{ name?: string } | null} input the request input (any JSON value)
 * @param {{ request_id: string, function: string, log: { info(message: string, data?: unknown): void } }} ctx
 */
export default async function handler(input, ctx) {`
  return `// ${name}: an fn function for ${runtime}. Try it: fn invoke ${name} --input '{"name":"you"}'
//
// The default export is called once per request with the input JSON and a context (request_id,
// function, auth, env, deadline, log). Return any JSON value; throw to fail (an error with a
// \`code\` like "NOT_FOUND" keeps that code). console.* output becomes log entries.
${signature}
  const name = typeof input?.name === 'string' ? input.name : 'world'
  ctx.log.info('greeting', { name })
  return { message: \`Hello, \${name}!\`, runtime: '${runtime}' }
}
`
}

const pythonHandler = (
  name: string,
) => `"""${name}: an fn function for Python. Try it: fn invoke ${name} --input '{"name":"you"}'

\`handler\` is called once per request with the input (any JSON value, decoded) and a context
(request_id, function, auth, env, deadline, log). Return anything json.dumps accepts; raise to
fail (an exception with a \`code\` attribute like "NOT_FOUND" keeps that code). It may also be
\`async def\`. print() output becomes log entries.
"""


def handler(input, ctx):
    name = input.get("name", "world") if isinstance(input, dict) else "world"
    ctx.log.info("greeting", {"name": name})
    return {"message": f"Hello, {name}!", "runtime": "python"}
`

const goHandler = (
  name: string,
) => `// ${name}: an fn function for Go. Try it: fn invoke ${name} --input '{"name":"you"}'
//
// fn builds this package main once (cached by content) with a generated main that serves
// Handler. Parameters are optional and in this order:
//
//	func Handler([ctx context.Context,] [input T,] [fctx *FnContext]) ([out T,] [error])
//
// T is json.RawMessage or any type encoding/json handles. Take fctx *FnContext for the
// request id, env and a logger (fctx.Log.Info("greeting", name)); return an *FnError
// (NewFnError("NOT_FOUND", "...")) to fail with a code of your own.
package main

import "context"

type Input struct {
	Name string \`json:"name"\`
}

type Output struct {
	Message string \`json:"message"\`
	Runtime string \`json:"runtime"\`
}

func Handler(ctx context.Context, input Input) (Output, error) {
	name := input.Name
	if name == "" {
		name = "world"
	}
	return Output{Message: "Hello, " + name + "!", Runtime: "go"}, nil
}
`

/** The files of a new function named `name` for `runtime`. */
export function templateFiles(name: string, runtime: CliRuntime): TemplateFiles {
  switch (runtime) {
    case 'node':
      return {
        'fn.yaml': manifest(name, runtime, 'Node'),
        'index.mjs': jsHandler(name, 'node', false),
      }
    case 'deno':
      return {
        'fn.yaml': manifest(name, runtime, 'Deno'),
        'index.ts': jsHandler(name, 'deno', true),
        // Marks the folder as a Deno project (imports, compiler options, lint settings go here).
        'deno.json': '{\n  "imports": {}\n}\n',
      }
    case 'bun':
      return {
        'fn.yaml': manifest(name, runtime, 'Bun'),
        'index.ts': jsHandler(name, 'bun', true),
        // Marks the folder as a Bun project; settings go here (https://bun.sh/docs/runtime/bunfig).
        'bunfig.toml': '# Bun settings for this function.\n',
      }
    case 'python':
      return {
        'fn.yaml': manifest(name, runtime, 'Python'),
        'main.py': pythonHandler(name),
      }
    case 'go':
      return {
        'fn.yaml': manifest(name, runtime, 'Go'),
        'main.go': goHandler(name),
        'go.mod': `module ${name}\n\ngo 1.21\n`,
      }
  }
}
