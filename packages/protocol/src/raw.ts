/**
 * A JSON value kept as the text a function wrote: what `invoke(..., { rawOutput: true })` puts in
 * `output`, so that a server can write it into its response without parsing and re-serialising
 * it (a 1 MiB output costs a copy, not two passes; integers beyond 2^53 stay exact).
 * `JSON.stringify` of a response that holds one still works: `toJSON` parses the text.
 */
export class RawJson {
  constructor(readonly json: string) {}

  toJSON(): unknown {
    return JSON.parse(this.json)
  }
}
