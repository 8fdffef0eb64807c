import type { Finding } from '../../findings/finding.js';
import { makeFinding } from '../../findings/make.js';
import { kubectlGet, toYaml } from '../../model/istio/common.js';
import { isHttpFamily, type IstioProtocol } from '../../model/istio/protocol.js';
import { serviceEntries } from '../../model/istio/service-entry.js';
import { services } from '../../model/istio/services.js';
import { httpOn443Breaks } from '../../model/istio/version-behaviour.js';
import { formatRef, type ObjectRef } from '../../model/k8s/resources.js';
import { anyOf } from '../rule.js';
import type { MeshRule } from './evidence.js';
import { scopeText, serviceEntryExcerpt, servicePortExcerpt } from './support.js';

// MD1004: HTTP-family protocol on port 443

export const httpOn443: MeshRule = {
  id: 'md1004-http-on-443',
  code: 'MD1004',
  description: 'A Service or ServiceEntry declares port 443 with an HTTP-family protocol',
  needs: [anyOf('Service', 'ServiceEntry')],
  check({ resources, istioVersion, mesh }) {
    const findings: Finding[] = [];
    const bug = httpOn443Breaks(istioVersion);
    const declarations: Array<{ ref: ObjectRef; protocol: IstioProtocol; how: string; excerpt: string; patch: string; exportTo?: string[]; namespace: string }> = [];
    for (const svc of services(resources, { domainSuffix: 'cluster.local' })) {
      for (const port of svc.ports.filter((p) => p.port === 443 && isHttpFamily(p.protocol.protocol))) {
        const fixed = { ...port.raw };
        if (port.protocol.from === 'appProtocol') fixed.appProtocol = 'https';
        else fixed.name = 'https';
        declarations.push({
          ref: svc.ref,
          protocol: port.protocol.protocol!,
          how: port.protocol.detail,
          excerpt: servicePortExcerpt(svc, [port]),
          patch: `${toYaml({ spec: { ports: [fixed] } })}\n# or keep the name and set appProtocol: https (Istio reads appProtocol first)`,
          ...(svc.exportTo ? { exportTo: svc.exportTo } : {}),
          namespace: svc.namespace,
        });
      }
    }
    for (const se of serviceEntries(resources)) {
      for (const port of se.ports.filter((p) => p.number === 443 && isHttpFamily(p.protocol.protocol))) {
        declarations.push({
          ref: se.ref,
          protocol: port.protocol.protocol!,
          how: port.protocol.detail,
          excerpt: serviceEntryExcerpt(se, [port]),
          patch: toYaml({ spec: { ports: [{ ...port.raw, name: 'https', protocol: 'HTTPS' }] } }),
          ...(se.exportTo ? { exportTo: se.exportTo } : {}),
          namespace: se.namespace,
        });
      }
    }
    for (const d of declarations) {
      const scope = scopeText(d.exportTo, d.namespace, mesh);
      const impact = bug.known
        ? bug.applies
          ? `${bug.because}: every sidecar in ${scope} treats outbound port 443 as HTTP, so HTTPS to any host fails (curl: SSL23_GET_SERVER_HELLO:unknown protocol).`
          : `${bug.because}: only traffic to this ${d.ref.kind} on 443 is handled as HTTP; on Istio < 1.8 or ASM <= 1.9 the same declaration breaks HTTPS for every sidecar.`
        : 'Before Istio 1.8 (Anthos Service Mesh before 1.10) this made every sidecar treat outbound 443 as HTTP and broke all HTTPS in the mesh; on later versions only traffic to this service on 443 is handled as HTTP.';
      findings.push(makeFinding('MD1004', {
        severity: bug.known && bug.applies ? 'error' : 'warning',
        message: `${formatRef(d.ref)} declares port 443 as ${d.protocol} (${d.how}). ${impact}`,
        target: d.ref,
        evidence: [{ source: kubectlGet(d.ref), excerpt: d.excerpt }],
        remediation: {
          text: 'Declare the port as what it carries on 443: name it https (or set appProtocol: https), or move plain HTTP off port 443. Upgrading to Istio 1.8+ / ASM 1.10+ removes the mesh-wide effect.',
          patch: d.patch,
          // On affected versions the 0.0.0.0_443 chain without an SNI match holds http_connection_manager instead of tcp_proxy to PassthroughCluster.
          command: 'istioctl proxy-config listeners <pod>.<namespace> --port 443 -o json',
        },
        assumes: [bug.because],
      }));
    }
    return findings;
  },
};
