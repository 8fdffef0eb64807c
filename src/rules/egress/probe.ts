/**
 * Ties what curl saw from the app container (src/model/logs/curl.ts) to the
 * simulated path: the certificate of the catch-all's backend, the plaintext
 * reply of an HTTP connection manager, the sidecar's own 502.
 */
import type { CurlOutput } from '../../model/logs/curl.js';
import { isBlackHole, isPassthrough, type SimulationResult } from '../../model/outbound/index.js';

export function tieProbeToVerdict(curl: CurlOutput | undefined, sim: SimulationResult, exitCode: number, host: string): string[] {
  const ties: string[] = [];
  const outcome = sim.outcome;
  const cluster = outcome.cluster;
  const backend = cluster?.replace(/^outbound\|\d+\|[^|]*\|/, '');
  if (!curl) {
    ties.push(`curl exited ${exitCode} with no output mesh-doctor recognises`);
    return ties;
  }
  const reason = `${curl.openSslError?.reasonText ?? ''} ${curl.errorText ?? ''}`.toLowerCase();
  if (/unknown protocol|wrong version number/.test(reason)) {
    ties.push(outcome.kind === 'tls_into_http'
      ? `curl's "${curl.errorText ?? reason.trim()}" is the plaintext HTTP reply of the sidecar's HTTP connection manager, as the simulated path predicts.`
      : `curl's "${curl.errorText ?? reason.trim()}" means a non-TLS reply; the simulated path (${outcome.kind}${cluster ? ` ${cluster}` : ''}) does not predict it — the dump may be older than the running config.`);
  }
  if (curl.certificateSubject || curl.nameMismatch) {
    const name = curl.nameMismatch?.certificateName ?? curl.certificateSubject;
    if (cluster && !isPassthrough(cluster) && !isBlackHole(cluster) && backend && backend !== host) {
      ties.push(`The certificate presented (${curl.certificateSubject ? `subject ${curl.certificateSubject}` : `for '${name}'`}${curl.certificateIssuer ? `, issuer ${curl.certificateIssuer}` : ''}) is not ${host}'s: it belongs to the backend of ${cluster}, where the catch-all chain sends the connection.`);
    } else if (curl.nameMismatch) {
      ties.push(`The certificate presented is for '${name ?? '?'}', not ${host}; the simulated path (${cluster ?? outcome.kind}) does not explain it — check for a proxy outside the mesh.`);
    }
  }
  if (/404 page not found/.test(curl.raw)) {
    ties.push(`"404 page not found" is the reply of ${backend && backend !== host ? `${backend} (the catch-all's backend)` : 'an unexpected backend'}, not of ${host}.`);
  }
  if (curl.httpStatus === 502 && /envoy/i.test(curl.serverHeader ?? '')) {
    ties.push(outcome.kind === 'direct_response'
      ? `The 502 with server: envoy is the sidecar's own ${outcome.routeName ?? 'direct'} response, as the simulated path predicts.`
      : 'The 502 comes from the sidecar (server: envoy).');
  }
  if ((curl.exitCode === 35 || curl.exitCode === 56 || curl.exitCode === 52) && isBlackHole(cluster)) {
    ties.push(`curl's exit ${curl.exitCode} fits BlackHoleCluster: the sidecar accepts the connection and closes it.`);
  }
  return ties;
}
