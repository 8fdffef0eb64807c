/**
 * explain --diagnose: from one access-log line and the pod that logged it,
 * the diagnosis the line calls for (explain's own "next" for it) with its
 * arguments filled from the line — the destination from the upstream cluster
 * (`outbound|8000||httpbin.foo.svc.cluster.local`) or :authority, the SNI, the
 * port the connection came in on. Pure: the command runs what this returns.
 */
import { parseIstioClusterName } from '../model/envoy/clusters.js';
import { parseAccessLogLine, type AccessLogEntry } from '../model/logs/access-log.js';
import type { DiagnosisName } from '../model/logs/diagnosis.js';
import { explain } from './explain.js';

export interface DiagnosisCall {
  command: DiagnosisName;
  args: string[];
}

/** `outbound|8000||httpbin.foo.svc.cluster.local` -> host and port; undefined for BlackHoleCluster, PassthroughCluster, inbound. */
function clusterDestination(cluster: string | undefined): { host: string; port: string } | undefined {
  const name = cluster ? parseIstioClusterName(cluster) : undefined;
  return name?.direction === 'outbound' && name.host ? { host: name.host, port: String(name.port) } : undefined;
}

const portOf = (address: string | undefined) => /:(\d+)$/.exec(address ?? '')?.[1];
const hostOf = (authority: string | undefined) => (authority && authority !== '-' ? authority.replace(/:\d+$/, '') : undefined);

/** The arguments each diagnosis takes from the line; a missing one is said, not guessed. */
function argsFor(diagnosis: DiagnosisName, e: AccessLogEntry, pod: string): string[] | string {
  const to = clusterDestination(e.upstreamCluster);
  const port = to?.port ?? portOf(e.downstreamLocalAddress);
  switch (diagnosis) {
    case 'why-503': {
      const target = to ? `${to.host}:${to.port}` : e.authority && e.authority !== '-' ? e.authority : undefined;
      return target ? [pod, '--to', target] : 'the line names neither an outbound cluster nor an :authority to send --to';
    }
    case 'why-502': {
      const host = hostOf(e.authority) ?? to?.host;
      return host ? [pod, '--host', host, ...(port ? ['--port', port] : []), ...(e.path ? ['--path', e.path.split('?')[0]] : [])] : 'the line has no :authority for --host';
    }
    case 'why-https-fails': {
      const host = e.requestedServerName && e.requestedServerName !== '-' ? e.requestedServerName : hostOf(e.authority) ?? to?.host;
      return host ? [pod, '--host', host, ...(port ? ['--port', port] : [])] : 'the line has no SNI or host for --host (a TCP line under REGISTRY_ONLY does not log the host)';
    }
    case 'why-inbound-fails': {
      const name = e.upstreamCluster ? parseIstioClusterName(e.upstreamCluster) : undefined;
      const inbound = name?.direction === 'inbound' ? String(name.port) : portOf(e.downstreamLocalAddress);
      return [pod, ...(inbound ? ['--port', inbound] : [])];
    }
    case 'who-owns-443':
      return [pod, ...(port ? ['--port', port] : [])];
    default:
      return `${diagnosis as string} cannot be filled from one line`;
  }
}

/** The call a line asks for, or why there is none. */
export function diagnosisForLine(line: string, pod: string): { call: DiagnosisCall } | { why: string } {
  const entry = parseAccessLogLine(line.trim());
  if (!entry) return { why: 'not an access-log line (explain --diagnose reads one line of an istio-proxy access log)' };
  const item = explain(line.trim()).items.find((i) => i.kind === 'access-log');
  const diagnosis = item?.next.find((n) => n.diagnosis)?.diagnosis;
  if (!diagnosis) return { why: `the line shows nothing a diagnosis explains (${item?.inMesh ?? 'no flag, no failure'})` };
  const args = argsFor(diagnosis, entry, pod);
  return typeof args === 'string' ? { why: `it calls for ${diagnosis}, but ${args}` } : { call: { command: diagnosis, args } };
}
