/**
 * The app's keep-alive as its HTTP/1.1 response says it (`curl -v` output,
 * `< ` header lines): `Keep-Alive: timeout=N` (RFC 9112's hint, seconds; Node's
 * http server sends its keepAliveTimeout this way) or `Connection: close`
 * (no reuse at all). The keep-alive race (MD3009) compares it with the
 * sidecars' idle timeout.
 */
export interface ResponseKeepAlive {
  /** How long the app keeps an idle connection; 0 for `Connection: close`. */
  ms: number;
  /** The header line as the response carried it. */
  header: string;
}

export function keepAliveFromResponse(curlVerbose: string): ResponseKeepAlive | undefined {
  // curl -L prints every response of a redirect chain: the last one is the app's answer.
  const responses = curlVerbose.split(/^< HTTP\/[\d.]+ /m).slice(1);
  const last = responses.at(-1);
  if (last === undefined) return undefined;
  for (const line of last.split('\n').map((l) => l.replace(/^< /, '').trim())) {
    const timeout = /^keep-alive:.*\btimeout=(\d+)/i.exec(line);
    if (timeout) return { ms: Number(timeout[1]) * 1000, header: line };
    if (/^connection:\s*close$/i.test(line)) return { ms: 0, header: line };
  }
  return undefined;
}
