// The echo handler each runtime's warm benchmark calls: as small as a handler gets.
const js = (entry) => ({ [entry]: 'export default (input) => input\n' })

export const HANDLERS = {
  node: js,
  deno: js,
  bun: js,
  python: (entry) => ({ [entry]: 'def handler(input, ctx):\n    return input\n' }),
  go: (entry) => ({
    [entry]: `package main

import (
	"context"
	"encoding/json"
)

func Handler(ctx context.Context, input json.RawMessage) (json.RawMessage, error) {
	return input, nil
}
`,
    'go.mod': 'module fnbench/warm\n\ngo 1.21\n',
  }),
}

/** A handler returning the number `v`: the reload benchmark writes v = 1, 2, ... */
const jsV = (entry, v) => ({ [entry]: `export default () => ${v}\n` })
HANDLERS.versioned = {
  node: jsV,
  deno: jsV,
  bun: jsV,
  python: (entry, v) => ({ [entry]: `def handler(input, ctx):\n    return ${v}\n` }),
  go: (entry, v) => ({
    [entry]: `package main\n\nimport "context"\n\nfunc Handler(ctx context.Context) (int, error) { return ${v}, nil }\n`,
    'go.mod': 'module fnbench/reload\n\ngo 1.21\n',
  }),
}
