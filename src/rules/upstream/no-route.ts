/**
 * MD3007: `NR` — no route, or no matching filter chain.
 *
 * - HTTP on the client (`404 NR route_not_found`): no route of the
 *   outbound route table matches the request's host and path. With a
 *   VirtualService for the host, its `http[].match` list covers no such
 *   request (there is no catch-all route); without one, the host/port is not
 *   in the sidecar's route table at all.
 * - TCP on the server (`"- - -" 0 NR filter_chain_not_found`) when the
 *   client does speak mTLS: the inbound listener has no chain for the port
 *   (istio/istio#27903). A plaintext client in front of a STRICT server is
 *   MD3001, which runs first; this rule stands down then.
 */
import { makeFinding } from '../../findings/make.js';
import type { EvidenceItem, Finding } from '../../findings/finding.js';
import { hostMatches, kubectlGet, resolveShortname, toYaml } from '../../model/istio/common.js';
import { refOf, type KubeObject } from '../../model/k8s/resources.js';
import { formatPod } from '../../model/pod.js';
import type { UpstreamEvidence } from './evidence.js';
import type { UpstreamRule } from './rule.js';
import { logLines, podTarget, rawLines, withFlag } from './support.js';

function virtualServicesFor(e: UpstreamEvidence): KubeObject[] {
  return e.resources.of('VirtualService').filter((vs) => {
    const hosts = ((vs.spec as { hosts?: unknown } | undefined)?.hosts ?? []) as unknown[];
    const ns = vs.metadata.namespace ?? 'default';
    return hosts.some((h) => typeof h === 'string' && hostMatches(resolveShortname(h, ns), e.destination.host));
  });
}

function hasCatchAll(vs: KubeObject): boolean {
  const http = ((vs.spec as { http?: unknown } | undefined)?.http ?? []) as Array<{ match?: unknown[] }>;
  return http.some((r) => !r.match || r.match.length === 0 || r.match.some((m) => !m || Object.keys(m as object).length === 0));
}

export const noRoute: UpstreamRule = {
  id: 'md3007-no-route',
  code: 'MD3007',
  description: 'No route (404 NR route_not_found) or no matching inbound filter chain (NR filter_chain_not_found)',
  needs: [{ anyOf: ['client:access-log', 'server:access-log', 'server:envoy-log'], because: 'no access log of either sidecar is available' }],
  check(e: UpstreamEvidence, analysis): Finding[] {
    const findings: Finding[] = [];
    const nr = withFlag(e, 'NR').filter((x) => !x.tcp);
    if (nr.length) {
      const evidence: EvidenceItem[] = [];
      if (e.client.accessLog) evidence.push(logLines(e.client.accessLog, nr, `${nr[0].responseCodeDetails ?? 'NR'}: no route matched ${nr[0].method ?? ''} ${nr[0].path ?? ''} for ${nr[0].authority ?? e.destination.host}`.trim()));
      const services = virtualServicesFor(e);
      const culprit = services.find((vs) => !hasCatchAll(vs)) ?? services[0];
      if (culprit) {
        const spec = culprit.spec as { hosts?: unknown; http?: Array<{ match?: unknown }> };
        evidence.push({ source: kubectlGet(refOf(culprit)), excerpt: toYaml({ spec: { hosts: spec.hosts, http: (spec.http ?? []).map((r) => ({ match: r.match })) } }), note: hasCatchAll(culprit) ? 'has a catch-all route, yet the request matched nothing' : 'every http route has a match; none matches the failing requests, and there is no catch-all route' });
        findings.push(makeFinding('MD3007', {
          message: `${formatPod(e.client.pod)}'s requests ${nr.slice(0, 2).map((x) => `${x.method ?? ''} ${x.path ?? ''}`.trim()).join(', ')} to ${e.destination.host} match no route of VirtualService ${culprit.metadata.namespace}/${culprit.metadata.name} (${nr[0].responseCode} NR ${nr[0].responseCodeDetails ?? ''}).`.replace(/\s+\)/, ')'),
          target: refOf(culprit),
          evidence,
          remediation: {
            text: `Add a route for these paths to VirtualService ${culprit.metadata.namespace}/${culprit.metadata.name}, or a last catch-all http route (no match) to ${e.destination.host}.`,
            patch: toYaml({ spec: { http: [{ route: [{ destination: { host: e.destination.service?.name ?? e.destination.host, ...(e.destination.port ? { port: { number: e.destination.port } } : {}) } }] }] } }) + '\n# append this route last; a merge patch would replace the whole http list',
          },
        }));
      } else {
        findings.push(makeFinding('MD3007', {
          message: `${formatPod(e.client.pod)} has no route for ${nr[0].authority ?? e.destination.host} (${nr[0].responseCode} NR ${nr[0].responseCodeDetails ?? ''}): the host and port are not in its outbound route table.`,
          target: e.destination.service?.ref ?? podTarget(e.client.pod),
          evidence,
          remediation: { text: `Check that the Host header names a Service port the client can see (istioctl proxy-config routes ${formatPod(e.client.pod)}), that the port is declared on the Service, and that no Sidecar resource hides it.` },
        }));
      }
    }
    // The server's NR is the consequence MD3001 (plaintext) or MD5008 (the client's own TLS) already names.
    if (!analysis.earlier.some((f) => f.code === 'MD3001' || f.code === 'MD5008')) {
      const chains = analysis.signals.filter((s) => s.kind === 'no-filter-chain');
      if (chains.length) {
        const server = e.servers.find((s) => s.pod.name === chains[0].pod.name && s.pod.namespace === chains[0].pod.namespace);
        const evidence: EvidenceItem[] = [rawLines(chains[0].cited, chains.slice(0, 3).map((s) => s.line), 'the server\'s inbound listener found no filter chain for these connections')];
        if (server?.demand?.chains.length) {
          evidence.push({ source: `istioctl proxy-config listeners ${formatPod(server.pod)} --port ${server.demand.port}`, excerpt: server.demand.chains.map((c) => `${c.listener} ${c.name} ${c.match}`).join('\n') });
        }
        findings.push(makeFinding('MD3007', {
          message: `${formatPod(chains[0].pod)} closes connections with no matching filter chain (NR filter_chain_not_found)${server?.port ? ` on port ${server.port}` : ''} although the client speaks ${e.client.tls ? e.client.tls.transport : 'mTLS'}: its inbound listener has no chain for that port.`,
          target: e.destination.service?.ref ?? podTarget(chains[0].pod),
          evidence,
          remediation: { text: `Declare the port on the Service (and the container), check Sidecar ingress settings and PeerAuthentication portLevelMtls for port ${server?.port ?? ''}; \`why-inbound-fails\` walks the inbound side.`, command: `kubectl mesh-doctor why-inbound-fails ${formatPod(chains[0].pod)}` },
        }));
      }
    }
    return findings;
  },
};
