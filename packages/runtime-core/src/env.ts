/**
 * The environment of a function process: never the host's. A small base that runtimes need to
 * start, what the adapter asks to pass through, and what the function's manifest declares.
 */
export const BASE_ENV: readonly string[] = [
  'PATH',
  'HOME',
  'LANG',
  'LC_ALL',
  'TMPDIR',
  'TZ',
  'USER',
]

/** Host variables any installer needs to reach a registry: proxies and CA settings. */
export const NETWORK_ENV: readonly string[] = [
  'HTTP_PROXY',
  'HTTPS_PROXY',
  'NO_PROXY',
  'ALL_PROXY',
  'http_proxy',
  'https_proxy',
  'no_proxy',
  'all_proxy',
  'SSL_CERT_FILE',
  'SSL_CERT_DIR',
]

export interface EnvOptions {
  /** Host variables the runtime needs (e.g. GOCACHE, DENO_DIR). */
  passThrough?: readonly string[]
  /** Values the adapter sets (e.g. PYTHONUNBUFFERED=1). */
  set?: Record<string, string>
  /** The function's own declared env (already interpolated). Wins over everything else. */
  declared?: Record<string, string>
  /** The host environment to read from (default: process.env). */
  host?: Record<string, string | undefined>
}

export function functionEnv(options: EnvOptions = {}): Record<string, string> {
  const host = options.host ?? process.env
  const env: Record<string, string> = {}
  for (const name of [...BASE_ENV, ...(options.passThrough ?? [])]) {
    const value = host[name]
    if (value !== undefined) env[name] = value
  }
  if (env['PATH'] === undefined) env['PATH'] = '/usr/local/bin:/usr/bin:/bin'
  return { ...env, ...options.set, ...options.declared }
}
