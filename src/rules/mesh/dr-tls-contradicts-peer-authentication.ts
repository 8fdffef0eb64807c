/**
 * MD1006: a DestinationRule makes sidecar clients send plaintext (tls.mode
 * DISABLE), TLS without the Istio client certificate (SIMPLE), or nothing
 * but plaintext because it sets no tls while auto mTLS is off — to a server
 * whose PeerAuthentication is STRICT (incident 5 / seed 004), found from the
 * resources before any request fails. Istio's own analyzer for this
 * (IST0113 MTLSPolicyConflict) was removed with the alpha authentication
 * API; the runtime view of the same contradiction is MD3001 (why-503).
 *
 * The server's mode follows ComposePeerAuthentication for each server pod's
 * target port (src/model/istio/peer-authentication.ts); the client's from the
 * rule's port-level, then top-level tls (pilot/pkg/networking/core/cluster_tls.go:
 * an explicit mode wins over auto mTLS).
 */
import type { Finding } from '../../findings/finding.js';
import { makeFinding } from '../../findings/make.js';
import { hostMatches, kubectlGet, toYaml } from '../../model/istio/common.js';
import { destinationRules, tlsModeOf, type DestinationRuleView } from '../../model/istio/destination-rule.js';
import type { MeshConfigView } from '../../model/istio/mesh-config.js';
import { effectiveMtls, type EffectiveMtls } from '../../model/istio/peer-authentication.js';
import { resolveTargetPort, selectsPod, services, type ServicePortView, type ServiceView } from '../../model/istio/services.js';
import { formatRef, type KubeObject, type ResourceSet } from '../../model/k8s/resources.js';
import { autoMtlsState, type AutoMtls } from '../upstream/client-tls.js';
import { ruleExcerpt, rulePatch } from '../upstream/support.js';
import type { MeshRule } from './evidence.js';

export const drTlsContradictsPeerAuthentication: MeshRule = {
  id: 'md1006-dr-tls-contradicts-peer-authentication',
  code: 'MD1006',
  description: "A DestinationRule's TLS mode sends plaintext (or TLS without the Istio certificate) to servers whose PeerAuthentication requires mTLS",
  needs: ['DestinationRule', 'Service'],
  check({ resources, mesh, istioVersion }) {
    const findings: Finding[] = [];
    const auto = autoMtlsState(mesh, istioVersion);
    for (const rule of destinationRules(resources)) {
      for (const svc of services(resources).filter((s) => hostMatches(rule.fqdn, s.host))) {
        const conflict = firstConflict(rule, svc, resources, mesh, auto);
        if (conflict) findings.push(conflictFinding(rule, svc, conflict, mesh));
      }
    }
    return findings;
  },
};

interface Conflict {
  port: ServicePortView;
  client: { mode: string; from: string; sends: string; why?: string };
  server: EffectiveMtls;
  servers: string[];
}

/** What the rule makes a sidecar client send to a port, when that is not Istio mTLS. */
function clientSends(rule: DestinationRuleView, port: number, auto: AutoMtls): Conflict['client'] | undefined {
  const { mode, from } = tlsModeOf(rule, { port });
  const path = `${from ?? 'trafficPolicy'}.tls.mode`;
  if (mode === 'DISABLE') return { mode, from: path, sends: 'plaintext' };
  if (mode === 'SIMPLE') return { mode, from: path, sends: 'TLS without the Istio client certificate' };
  // No tls at all: auto mTLS picks ISTIO_MUTUAL for a sidecar server; without it (off, or Istio < 1.5) the
  // rule replaces the mesh-wide ISTIO_MUTUAL rule and the client sends plaintext (seed 004).
  if (mode === undefined && !auto.on) return { mode: 'unset', from: 'trafficPolicy.tls', sends: 'plaintext', why: `no tls block, and ${auto.because}` };
  return undefined;
}

function firstConflict(rule: DestinationRuleView, svc: ServiceView, resources: ResourceSet, mesh: MeshConfigView, auto: AutoMtls): Conflict | undefined {
  const pods = resources.of('Pod').filter((p) => selectsPod(svc, p) && hasSidecar(p));
  for (const port of svc.ports) {
    const client = clientSends(rule, port.port, auto);
    if (!client) continue;
    // Each server pod's mode on the port it receives on; without pods, the namespace's policies with the selector's labels.
    const workloads = pods.length
      ? pods.map((p) => ({ name: `${p.metadata.name}.${svc.namespace}`, labels: (p.metadata.labels ?? {}) as Record<string, string>, port: resolveTargetPort(port, p).port }))
      : [{ name: `pods selected by ${formatRef(svc.ref)}`, labels: svc.selector ?? {}, port: typeof port.targetPort === 'number' ? port.targetPort : undefined }];
    const strict = workloads
      .map((w) => ({ w, mtls: effectiveMtls(resources, { namespace: svc.namespace, labels: w.labels }, w.port, { mesh }) }))
      .filter((x) => x.mtls.mode === 'STRICT');
    if (strict.length) return { port, client, server: strict[0].mtls, servers: strict.map((x) => x.w.name) };
  }
  return undefined;
}

function hasSidecar(pod: KubeObject): boolean {
  const spec = (pod.spec ?? {}) as { containers?: Array<{ name?: string }>; initContainers?: Array<{ name?: string }> };
  return [...(spec.containers ?? []), ...(spec.initContainers ?? [])].some((c) => c.name === 'istio-proxy');
}

function conflictFinding(rule: DestinationRuleView, svc: ServiceView, c: Conflict, mesh: MeshConfigView): Finding {
  const decided = c.server.decidedBy;
  const evidence = [ruleExcerpt(rule, `${c.client.why ?? `${c.client.from} ${c.client.mode}`}: sidecar clients send ${c.client.sends} to ${svc.host}:${c.port.port}`)];
  if (decided) {
    const policy = (c.server.chain.find((s) => s.ref && formatRef(s.ref) === formatRef(decided)));
    evidence.push({ source: kubectlGet(decided), excerpt: toYaml({ metadata: { name: decided.name, namespace: decided.namespace }, spec: { mtls: { mode: policy?.mode ?? 'STRICT' } } }), note: c.server.because });
  }
  const fix = rulePatch(rule, c.client.from.startsWith('subsets') ? c.client.from : undefined, { tls: { mode: 'ISTIO_MUTUAL' } });
  return makeFinding('MD1006', {
    message: `${formatRef(rule.ref)} makes sidecar clients send ${c.client.sends} to ${svc.host}:${c.port.port} (tls ${c.client.mode}), but its server${c.servers.length > 1 ? 's' : ''} (${c.servers.slice(0, 3).join(', ')}${c.servers.length > 3 ? ', ...' : ''}) require mTLS: ${c.server.because}. Every request from a sidecar fails: the client sees 503 UC (upstream connection reset), the server a TLS error.`,
    target: rule.ref,
    evidence,
    remediation: {
      text: `Let ${formatRef(rule.ref)} use Istio mTLS (tls.mode ISTIO_MUTUAL)${mesh.enableAutoMtls ? ', or remove its tls block (auto mTLS then picks mTLS)' : ''}; relaxing the PeerAuthentication to PERMISSIVE would also stop the failures, at the cost of plaintext.`,
      patch: fix.patch,
      command: fix.command,
    },
    assumes: ['An explicit DestinationRule tls mode overrides auto mTLS (Istio >= 1.5); STRICT accepts only Istio mTLS'],
  });
}
