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
