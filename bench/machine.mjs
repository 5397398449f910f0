// The machine line of every bench report: results are only comparable on the same machine.
import { cpus, totalmem } from 'node:os'

export function machine(date) {
  return {
    date,
    cpus: cpus().length,
    cpuModel: cpus()[0]?.model ?? 'unknown',
    memGiB: Math.round(totalmem() / 2 ** 30),
    node: process.versions.node,
    platform: `${process.platform}-${process.arch}`,
  }
}
