import { createServer, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { relative } from 'node:path'
import type { Executor, ExecutorEvent } from '@fn/executor'
import { CliError, EXIT, type ExitCode } from '../errors'
import { createHttpHandler, type HttpInvocation } from '../http'
import { functionsDir, openExecutor } from '../project'
import { errorText, functionTable, indent, listed, logLine, prefix, runtimeLine } from '../report'
import { styleFor } from '../style'

export interface ServeCommandOptions {
  dir: string
  port: number
  host: string
  /** NDJSON events on stdout instead of human lines. */
  json?: boolean
  /** Invocations in flight across all functions (executor default 64). */
  concurrency?: number
  /** Callers allowed to wait for a slot before BUSY (executor default 4096). */
  maxQueue?: number
  /** Largest request body in bytes (default 6 MiB). */
  maxBodyBytes?: number
  /** `fn dev`: watch and reload, print function logs. */
  dev?: boolean
  /** `fn dev`: quiet time before a burst of file changes is applied. */
  debounceMs?: number
}

/** `fn serve` and `fn dev`: the HTTP API until SIGINT/SIGTERM; resolves with the exit code. */
export async function serveCommand(options: ServeCommandOptions): Promise<ExitCode> {
  const dir = functionsDir(options.dir)
  const shownDir = relative(process.cwd(), dir) || '.'
  const s = styleFor(process.stdout)
  const command = options.dev ? 'fn dev' : 'fn serve'
  const out = batchedLines(process.stdout)
  const emit = (event: Record<string, unknown>) =>
    out.write(`${JSON.stringify({ time: new Date().toISOString(), ...event })}\n`)
  const say = (line: string) => out.write(`${line}\n`)
  let listening = false

  const onEvent = (e: ExecutorEvent) => {
    if (options.json) {
      if (e.type === 'problem' || e.type === 'unavailable') {
        const { error, ...rest } = e
        emit({ ...rest, error: { code: error.code, message: error.message } })
      } else emit(e)
      return
    }
    if (e.type === 'stray') {
      for (const line of e.text.replace(/\n$/, '').split('\n')) {
        say(`${prefix(s, e.name)} ${s.dim(e.stream === 'stderr' ? 'err  ' : 'out  ')} ${line}`)
      }
      return
    }
    // Before listening, the function table reports the outcome of the first load.
    if (!listening) return
    if (e.type === 'ready')
      say(`${s.green('+')} ${s.bold(e.name)} ready ${s.dim(`(${e.runtime})`)}`)
    else if (e.type === 'reloaded') {
      say(`${s.cyan('↻')} ${s.bold(e.name)} reloaded ${s.dim(`(${e.runtime})`)}`)
    } else if (e.type === 'unavailable') {
      say(`${s.red('✗')} ${s.bold(e.name)}: ${s.red(indent(errorText(e.error), '', '    '))}`)
      if (executor.get(e.name)?.status === 'stale') {
        say(s.yellow('    still serving the last good version until this is fixed'))
      }
    } else if (e.type === 'problem') {
      say(
        `${s.red('✗')} ${relative(process.cwd(), e.dir)}: ${s.red(indent(e.error.message, '', '    '))}`,
      )
    }
  }

  const onInvoke = ({ name, status, response }: HttpInvocation) => {
    if (options.json) {
      emit({
        type: 'invoke',
        name,
        status,
        request_id: response.request_id,
        success: response.success,
        duration_ms: response.duration_ms,
        ...(response.cold !== undefined ? { cold: response.cold } : {}),
        ...(response.error ? { error: response.error } : {}),
        ...(options.dev ? { logs: response.logs } : {}),
      })
      return
    }
    if (options.dev) for (const entry of response.logs) say(logLine(s, name, entry))
    const paint = status < 300 ? s.green : status < 500 ? s.yellow : s.red
    const cold = response.cold ? s.dim(' cold') : ''
    const failure = response.error ? ` ${s.red(errorText(response.error))}` : ''
    say(
      `${s.dim('POST')} /functions/${name} ${paint(String(status))} ${s.dim(`${response.duration_ms}ms`)}${cold}${failure}`,
    )
  }

  const executor: Executor = openExecutor({
    dir,
    onEvent,
    ...(options.concurrency !== undefined ? { concurrency: options.concurrency } : {}),
    ...(options.maxQueue !== undefined ? { maxQueue: options.maxQueue } : {}),
  })
  let stopWatching: (() => Promise<void>) | undefined
  let server: Server | undefined
  // Listen for signals from the start: Ctrl-C during startup stops right after it.
  const stopped = stopSignal()
  try {
    await executor.start()
    server = createServer(
      createHttpHandler(executor, {
        onInvoke,
        ...(options.maxBodyBytes !== undefined ? { maxBodyBytes: options.maxBodyBytes } : {}),
      }),
    )
    const address = await listen(server, options.port, options.host)
    const url = `http://${address.address.includes(':') ? `[${address.address}]` : address.address}:${address.port}`
    if (options.dev) {
      stopWatching = await executor.watch(
        options.debounceMs !== undefined ? { debounceMs: options.debounceMs } : {},
      )
    }
    listening = true
    if (options.json) {
      emit({
        type: 'listening',
        url,
        host: address.address,
        port: address.port,
        dir,
        functions: listed(executor),
      })
    } else {
      say(
        `${s.bold(command)} ${s.cyan(url)} ${s.dim(`· ${shownDir}${options.dev ? ' · watching for changes' : ''}`)}`,
      )
      say('')
      say(functionTable(s, listed(executor)))
      say('')
      say(await runtimeLine(s, executor))
      const first = executor.list().find((f) => f.status === 'ready')?.name ?? '<name>'
      say(s.dim(`try: curl -s -XPOST ${url}/functions/${first} -d '{}'   (Ctrl-C stops)`))
    }
    await stopped.promise
    if (!options.json) say(s.dim(`\n${command}: stopping…`))
    return EXIT.OK
  } finally {
    stopped.dispose()
    await stopWatching?.()
    if (server) await close(server)
    await executor.close()
    if (options.json && listening) emit({ type: 'stopped' })
    out.flush()
  }
}

/**
 * Access and log lines written once per turn of the event loop, not once per request: a write
 * to a pipe or a terminal is a blocking system call in Node, paid by the request being served.
 */
function batchedLines(stream: NodeJS.WriteStream): { write(text: string): void; flush(): void } {
  let pending: string[] = []
  let size = 0
  const flush = () => {
    if (pending.length === 0) return
    const text = pending.join('')
    pending = []
    size = 0
    stream.write(text)
  }
  return {
    write(text) {
      if (pending.length === 0) setImmediate(flush)
      pending.push(text)
      size += text.length
      if (size > 64 * 1024) flush()
    },
    flush,
  }
}

function listen(server: Server, port: number, host: string): Promise<AddressInfo> {
  return new Promise((resolve, reject) => {
    const onError = (err: NodeJS.ErrnoException) => {
      const reason =
        err.code === 'EADDRINUSE'
          ? `port ${port} on ${host} is in use: pass --port <other> (0 picks a free one)`
          : err.code === 'EACCES'
            ? `no permission to listen on ${host}:${port}: pick a port above 1023`
            : `cannot listen on ${host}:${port}: ${err.message}`
      reject(new CliError(`[fn] ${reason}`, EXIT.FAILED, { cause: err }))
    }
    server.once('error', onError)
    server.listen(port, host, () => {
      server.off('error', onError)
      resolve(server.address() as AddressInfo)
    })
  })
}

/** Stops accepting, lets requests in flight finish, then drops idle keep-alive connections. */
function close(server: Server): Promise<void> {
  return new Promise((resolve) => {
    server.close(() => resolve())
    server.closeIdleConnections()
    setTimeout(() => server.closeAllConnections(), 5000).unref()
  })
}

/**
 * Resolves on the first SIGINT or SIGTERM (a second one exits at once); `dispose` stops
 * listening.
 */
function stopSignal(): { promise: Promise<void>; dispose: () => void } {
  let onSignal: (signal: NodeJS.Signals) => void = () => {}
  const dispose = () => {
    process.removeListener('SIGINT', onSignal)
    process.removeListener('SIGTERM', onSignal)
  }
  const promise = new Promise<void>((resolve) => {
    onSignal = (signal) => {
      dispose()
      process.once(signal, () => process.exit(130))
      resolve()
    }
    process.on('SIGINT', onSignal)
    process.on('SIGTERM', onSignal)
  })
  return { promise, dispose }
}
