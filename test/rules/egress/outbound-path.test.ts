import { expect } from 'chai';
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { parseConfigDump } from '../../../src/model/envoy/config-dump.js';
import { podView } from '../../../src/model/k8s/pods.js';
import { formatRef, parseKubeObjects, ResourceSet } from '../../../src/model/k8s/resources.js';
import { meshConfigFrom } from '../../../src/model/istio/mesh-config.js';
import { runStaticChecks } from '../../../src/rules/mesh/index.js';
import { parseIstioVersion } from '../../../src/model/istio/version-behaviour.js';
import { httpConnection, httpsConnection, simulateOutbound } from '../../../src/model/outbound/index.js';
import { explainOutboundPath, type TrafficEvidence } from '../../../src/rules/egress/outbound-path.js';
import { REPO_ROOT } from '../../support/cli.js';

function explain(dir: string, ns: string, pod: string, kind: 'https' | 'http', host: string, ip?: string, traffic?: TrafficEvidence) {
  const root = path.join(REPO_ROOT, dir);
  const read = (f: string) => (existsSync(path.join(root, f)) ? readFileSync(path.join(root, f), 'utf8') : '');
  const resources = new ResourceSet([
    ...(read('cluster/k8s-resources').trim() ? parseKubeObjects(read('cluster/k8s-resources'), 'k8s-resources') : []),
    ...(read('cluster/crs').trim() ? parseKubeObjects(read('cluster/crs'), 'crs') : []),
  ]);
  const dump = parseConfigDump(read(`proxies/${ns}/${pod}/config_dump?include_eds`), pod);
  const mesh = meshConfigFrom(resources);
  const istioVersion = parseIstioVersion(dump.versions?.istio);
  const port = kind === 'https' ? 443 : 80;
  const simulation = simulateOutbound(dump, kind === 'https' ? httpsConnection(host, ip ? { ip } : {}) : httpConnection(host, ip ? { ip } : {}));
  return explainOutboundPath({
    pod: podView(resources.get('Pod', ns, pod)!), podArg: `${pod}.${ns}`, resources, mesh, dump, ...(istioVersion ? { istioVersion } : {}),
    host, port, simulation, dumpSource: 'config_dump', staticFindings: runStaticChecks(resources, { mesh, ...(istioVersion ? { istioVersion } : {}) }).findings,
    ...(traffic ? { traffic } : {}),
  });
}

const SAMPLE = ['istio-demo', 'sample-c59f744df-8kq7m'] as const;
const UBUNTU = ['default', 'ubuntu-deployment-54bbd6f4ff-q9sdj'] as const;
const WEB = ['team-b', 'web-6d4cf56db6-x2pnq'] as const;
const S = (name: string) => `test/scenarios/${name}/snapshot`;

/** ESLint-style: scenario -> the findings (code and culprit) the path rules report; healthy twins -> none. */
const invalid: Array<{ dir: string; pod: readonly [string, string]; kind: 'https' | 'http'; host: string; findings: string[] }> = [
  { dir: S('seed003-se-no-addresses-tcp'), pod: SAMPLE, kind: 'https', host: 'baidu.com', findings: ['MD1002 ServiceEntry abc/traefik-cutom-name'] },
  { dir: S('seed003-se-no-addresses-unset'), pod: SAMPLE, kind: 'https', host: 'baidu.com', findings: ['MD1002 ServiceEntry abc/traefik-cutom-name'] },
  { dir: S('seed003-several-se-no-addresses'), pod: SAMPLE, kind: 'https', host: 'baidu.com', findings: ['MD1002 ServiceEntry abc/api-cutom-name'] },
  { dir: S('seed003-external-se-workaround'), pod: SAMPLE, kind: 'https', host: 'baidu.com', findings: ['MD1002 ServiceEntry istio-demo/traefik-cutom-name'] },
  // The Sidecar hides the MESH_EXTERNAL workaround entry: the catch-all is the culprit, the hiding Sidecar a warning.
  { dir: S('seed003-sidecar-hides-external-se'), pod: SAMPLE, kind: 'https', host: 'music.baidu.com', findings: ['MD1002 ServiceEntry istio-demo/traefik-cutom-name', 'MD2002 Sidecar istio-demo/default'] },
  { dir: S('seed002-registry-only-unregistered'), pod: UBUNTU, kind: 'http', host: 'httpbin.org', findings: ['MD2001 ConfigMap istio-system/istio'] },
  { dir: S('seed002-registry-only-unregistered'), pod: UBUNTU, kind: 'https', host: 'www.google.com', findings: ['MD2001 ConfigMap istio-system/istio'] },
  { dir: S('seed002-registry-only-se-exportto-hidden'), pod: UBUNTU, kind: 'http', host: 'httpbin.org', findings: ['MD2002 ServiceEntry egress-config/external-svc'] },
  { dir: S('seed002-registry-only-se-sidecar-hidden'), pod: UBUNTU, kind: 'http', host: 'httpbin.org', findings: ['MD2002 Sidecar default/default'] },
  { dir: S('seed002-registry-only-se-sidecar-hidden'), pod: UBUNTU, kind: 'https', host: 'www.google.com', findings: ['MD2002 Sidecar default/default'] },
  { dir: 'test/fixtures/egress/seed000-istio-1.7-http-on-443', pod: WEB, kind: 'https', host: 'www.google.com', findings: ['MD1001 Service default/my-app'] },
  { dir: 'test/fixtures/egress/seed000-asm-1.9-http-on-443', pod: WEB, kind: 'https', host: 'www.google.com', findings: ['MD1001 Service default/my-app'] },
  { dir: 'test/fixtures/egress/seed003-istio-1.11-catch-all', pod: SAMPLE, kind: 'https', host: 'baidu.com', findings: ['MD1002 ServiceEntry abc/traefik-cutom-name'] },
  { dir: 'test/fixtures/egress/seed003-istio-1.11-catch-all', pod: ['bookinfo', 'reviews-v1-545db77b95-6xq4l'], kind: 'https', host: 'music.baidu.com', findings: ['MD1002 ServiceEntry bookinfo/mysql-cutom-name', 'MD2002 Sidecar bookinfo/default'] },
];

const valid: Array<{ dir: string; pod: readonly [string, string]; kind: 'https' | 'http'; host: string; status: string }> = [
  { dir: S('seed003-se-no-addresses-tcp-healthy'), pod: SAMPLE, kind: 'https', host: 'baidu.com', status: 'healthy' },
  { dir: S('seed003-se-no-addresses-tls'), pod: SAMPLE, kind: 'https', host: 'baidu.com', status: 'healthy' },
  { dir: S('seed003-se-no-addresses-tls-healthy'), pod: SAMPLE, kind: 'https', host: 'baidu.com', status: 'healthy' },
  { dir: S('seed003-se-no-addresses-unset-healthy'), pod: SAMPLE, kind: 'https', host: 'baidu.com', status: 'healthy' },
  { dir: S('seed003-several-se-no-addresses-healthy'), pod: SAMPLE, kind: 'https', host: 'baidu.com', status: 'healthy' },
  { dir: S('seed003-sidecar-hides-external-se-healthy'), pod: SAMPLE, kind: 'https', host: 'music.baidu.com', status: 'healthy' },
  { dir: S('seed002-registry-only-unregistered-healthy'), pod: UBUNTU, kind: 'http', host: 'httpbin.org', status: 'healthy' },
  { dir: S('seed002-registry-only-se-exportto-hidden-healthy'), pod: UBUNTU, kind: 'http', host: 'httpbin.org', status: 'healthy' },
  { dir: S('seed002-registry-only-se-sidecar-hidden-healthy'), pod: UBUNTU, kind: 'https', host: 'www.google.com', status: 'healthy' },
  { dir: S('seed000-port-443-named-http'), pod: WEB, kind: 'https', host: 'www.google.com', status: 'healthy' },
  { dir: S('seed000-port-443-named-http-healthy'), pod: WEB, kind: 'https', host: 'www.google.com', status: 'healthy' },
  { dir: S('seed000-port-443-appprotocol-http'), pod: WEB, kind: 'https', host: 'www.google.com', status: 'healthy' },
];

describe('egress rules: the path verdict names the culprit', () => {
  for (const c of invalid) {
    it(`${c.dir.replace(/^test\/(scenarios|fixtures\/egress)\//, '').replace(/\/snapshot$/, '')} ${c.kind}://${c.host} -> ${c.findings.join(', ')}`, function () {
      if (!existsSync(path.join(REPO_ROOT, c.dir))) this.skip();
      const v = explain(c.dir, c.pod[0], c.pod[1], c.kind, c.host);
      expect(v.findings.map((f) => `${f.code} ${formatRef(f.target)}`)).to.deep.equal(c.findings);
      expect(v.status).to.equal('problem');
      expect(v.findings[0].severity).to.equal('error');
      expect(v.summary).to.contain(c.findings[0].split(' ').slice(1).join(' ').replace(/^ConfigMap istio-system\/istio$/, 'REGISTRY_ONLY'));
      for (const f of v.findings) {
        expect(f.evidence.length).to.be.greaterThan(0);
        expect(f.remediation.text).to.not.equal('');
      }
    });
  }
  for (const c of valid) {
    it(`healthy: ${c.dir.replace(/^test\/scenarios\//, '').replace(/\/snapshot$/, '')} ${c.kind}://${c.host}`, function () {
      if (!existsSync(path.join(REPO_ROOT, c.dir))) this.skip();
      const v = explain(c.dir, c.pod[0], c.pod[1], c.kind, c.host);
      expect(v.findings.filter((f) => f.severity === 'error')).to.deep.equal([]);
      expect(v.status).to.equal(c.status);
    });
  }

  it('a chain without criteria on a per-VIP listener is the service of that address, not a capture', () => {
    const v = explain(S('seed003-se-no-addresses-tcp'), ...SAMPLE, 'https', 'traefik.abc', '10.96.120.15');
    expect(v.findings).to.deep.equal([]);
    expect(v.status).to.equal('healthy');
    expect(v.summary).to.contain('Service abc/traefik');
  });

  it('MD1001 is version-aware: Istio 1.7 and ASM 1.9 both have the bug', () => {
    const istio = explain('test/fixtures/egress/seed000-istio-1.7-http-on-443', ...WEB, 'https', 'www.google.com');
    expect(istio.findings[0].assumes?.[0]).to.match(/Istio 1\.7\.3 has the bug/);
    const asm = explain('test/fixtures/egress/seed000-asm-1.9-http-on-443', ...WEB, 'https', 'www.google.com');
    expect(asm.findings[0].assumes?.[0]).to.match(/Anthos Service Mesh .* has the bug/);
    expect(asm.findings[0].remediation.patch).to.contain('name: https').and.contain('targetPort: 5000');
  });

  it('MD1002 reuses the static check\'s addresses patch (the backend Service ClusterIP)', () => {
    const v = explain(S('seed003-se-no-addresses-tcp'), ...SAMPLE, 'https', 'baidu.com');
    expect(v.findings[0].remediation.patch).to.contain('10.96.120.15');
    // istioctl's own layout (tabwriter padding), so it can be compared with what users see.
    expect(v.findings[0].evidence[0].excerpt).to.match(/^ADDRESSES\s+PORT\s+MATCH\s+DESTINATION\n0\.0\.0\.0\s+443\s+ALL\s+Cluster: outbound\|443\|\|traefik\.cutom-name$/);
  });

  it('returns findings finished: MD2001 quotes the probe, then the sidecar\'s access-log lines; MD1001 the probe only', () => {
    const probe = { source: 'kubectl exec ubuntu-deployment-54bbd6f4ff-q9sdj -n default -c ubuntu -- curl -sv http://httpbin.org/ip', excerpt: '< HTTP/1.1 502 Bad Gateway' };
    const accessLog = { source: 'kubectl logs ubuntu-deployment-54bbd6f4ff-q9sdj -n default -c istio-proxy --tail=5000', excerpt: '"GET /ip HTTP/1.1" 502 - direct_response' };
    const blocked = explain(S('seed002-registry-only-unregistered'), ...UBUNTU, 'http', 'httpbin.org', undefined, { probe, accessLog });
    expect(blocked.findings.map((f) => f.code)).to.deep.equal(['MD2001']);
    expect(blocked.findings[0].evidence.slice(-2)).to.deep.equal([probe, accessLog]);
    const bare = explain(S('seed002-registry-only-unregistered'), ...UBUNTU, 'http', 'httpbin.org');
    expect(bare.findings[0].evidence).to.deep.equal(blocked.findings[0].evidence.slice(0, -2));
    const http443 = explain('test/fixtures/egress/seed000-istio-1.7-http-on-443', ...WEB, 'https', 'www.google.com', undefined, { probe, accessLog });
    expect(http443.findings[0].code).to.equal('MD1001');
    expect(http443.findings[0].evidence.at(-1)).to.deep.equal(probe);
  });
});
