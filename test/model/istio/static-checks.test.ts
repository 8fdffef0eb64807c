import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { expect } from 'chai';
import { meshConfigFromObject } from '../../../src/model/istio/mesh-config.js';
import { runStaticChecks, STATIC_RULES } from '../../../src/rules/mesh/index.js';
import { parseIstioVersion } from '../../../src/model/istio/version-behaviour.js';
import { fixture, resources, ruleTester } from './support.js';

const se = (name: string, namespace: string, spec: Record<string, unknown>) => `
apiVersion: networking.istio.io/v1
kind: ServiceEntry
metadata: {name: ${name}, namespace: ${namespace}}
spec: ${JSON.stringify(spec)}
`;
const svc = (name: string, namespace: string, spec: Record<string, unknown>) => `
apiVersion: v1
kind: Service
metadata: {name: ${name}, namespace: ${namespace}}
spec: ${JSON.stringify(spec)}
`;
const scenario = (dir: string) => readFileSync(join('test', 'scenarios', dir, 'istio.yaml'), 'utf8');

ruleTester('md1003-serviceentry-without-addresses', {
  valid: [
    { name: 'seed 003 fixed: addresses and endpoints', yaml: fixture('seed003-serviceentry-fixed.yaml') },
    { name: 'seed 003 TCP healthy twin (test/scenarios)', yaml: scenario('seed003-se-no-addresses-tcp-healthy') },
    { name: 'seed 002: MESH_EXTERNAL entry for concrete hosts (HTTP 80, TLS 443)', yaml: fixture('seed002-mesh-config.yaml') },
    { name: 'HTTP port without addresses is routed by Host', yaml: se('web', 'ns', { hosts: ['web.example.com'], ports: [{ number: 80, name: 'http', protocol: 'HTTP' }] }) },
    { name: 'addresses allocated by Istio (status.addresses)', yaml: `${se('db', 'ns', { hosts: ['db.example.com'], ports: [{ number: 5432, name: 'tcp', protocol: 'TCP' }] })}status: {addresses: [{value: 240.240.0.1}]}\n` },
    {
      name: 'DNS capture + auto-allocation on (IST0134 is silent too)',
      yaml: se('db', 'ns', { hosts: ['db.example.com'], ports: [{ number: 5432, name: 'tcp', protocol: 'TCP' }] }),
      mesh: meshConfigFromObject({ defaultConfig: { proxyMetadata: { ISTIO_META_DNS_CAPTURE: 'true', ISTIO_META_DNS_AUTO_ALLOCATE: 'true' } } }),
    },
  ],
  invalid: [
    {
      name: 'seed 003: generated MESH_INTERNAL entry, TLS 443, no addresses (warning: IST0134 misses it)',
      yaml: fixture('seed003-serviceentry-tls-no-addresses.yaml'),
      expect: [{ code: 'MD1003', target: 'ServiceEntry abc/traefik-cutom-name', severity: 'warning' }],
    },
    {
      name: 'seed 003 TCP variant (test/scenarios): catch-all, error',
      yaml: scenario('seed003-se-no-addresses-tcp'),
      expect: [{ code: 'MD1003', target: 'ServiceEntry abc/traefik-cutom-name', severity: 'error' }],
    },
    {
      name: 'no protocol at all (auto-detect) counts as TCP',
      yaml: se('db', 'ns', { hosts: ['db.example.com'], ports: [{ number: 5432, name: 'db' }], resolution: 'DNS' }),
      expect: [{ code: 'MD1003', target: 'ServiceEntry ns/db' }],
    },
    {
      name: 'MESH_EXTERNAL wildcard host on TLS',
      yaml: se('wild', 'ns', { hosts: ['*.example.com'], ports: [{ number: 443, name: 'tls', protocol: 'TLS' }], resolution: 'NONE' }),
      expect: [{ code: 'MD1003', target: 'ServiceEntry ns/wild' }],
    },
    {
      name: 'a TCP and a TLS port: two findings',
      yaml: se('both', 'ns', { hosts: ['x.internal'], location: 'MESH_INTERNAL', ports: [{ number: 9000, name: 'tcp', protocol: 'TCP' }, { number: 443, name: 'tls', protocol: 'TLS' }] }),
      expect: [{ code: 'MD1003', target: 'ServiceEntry ns/both', severity: 'error' }, { code: 'MD1003', target: 'ServiceEntry ns/both', severity: 'warning' }],
    },
  ],
});

ruleTester('md1004-http-on-443', {
  valid: [
    { name: 'seed 000 fixed: port named https', yaml: fixture('seed000-service-https-443.yaml') },
    { name: 'appProtocol https overrides the name http', yaml: svc('a', 'ns', { ports: [{ name: 'http', appProtocol: 'https', port: 443 }] }) },
    { name: 'http on 8443 is fine', yaml: svc('a', 'ns', { ports: [{ name: 'http', port: 8443 }] }) },
    { name: 'ServiceEntry TLS on 443', yaml: fixture('seed002-mesh-config.yaml') },
  ],
  invalid: [
    {
      name: 'seed 000: Service port 443 named http, version unknown',
      yaml: fixture('seed000-service-http-443.yaml'),
      expect: [{ code: 'MD1004', target: 'Service default/my-app', severity: 'warning' }],
    },
    {
      name: 'seed 000 on ASM 1.9: error (breaks every sidecar)',
      yaml: fixture('seed000-service-http-443.yaml'),
      istioVersion: parseIstioVersion('1.9.5-asm.2'),
      expect: [{ code: 'MD1004', target: 'Service default/my-app', severity: 'error' }],
    },
    {
      name: 'seed 000 on Istio 1.9: warning (only this service)',
      yaml: fixture('seed000-service-http-443.yaml'),
      istioVersion: parseIstioVersion('1.9.5'),
      expect: [{ code: 'MD1004', target: 'Service default/my-app', severity: 'warning' }],
    },
    {
      name: 'grpc and appProtocol http2 on 443',
      yaml: svc('g', 'ns', { ports: [{ name: 'grpc-api', port: 443 }] }) + '---' + svc('h', 'ns', { ports: [{ name: 'web', appProtocol: 'http2', port: 443 }] }),
      expect: [{ code: 'MD1004', target: 'Service ns/g' }, { code: 'MD1004', target: 'Service ns/h' }],
    },
    {
      name: 'ServiceEntry HTTP on 443',
      yaml: se('ext', 'ns', { hosts: ['api.example.com'], ports: [{ number: 443, name: 'http', protocol: 'HTTP' }] }),
      expect: [{ code: 'MD1004', target: 'ServiceEntry ns/ext' }],
    },
  ],
});

ruleTester('md1005-port-protocol-conflict', {
  valid: [
    { name: 'seed 003: TLS entry and https Service on 443', yaml: fixture('seed003-serviceentry-tls-no-addresses.yaml') },
    { name: 'HTTP Service and a headless TCP Service: per-pod listeners for the headless one', yaml: svc('a', 'ns', { clusterIP: '10.0.0.1', ports: [{ name: 'http', port: 9000 }] }) + '---' + svc('b', 'ns', { clusterIP: 'None', ports: [{ name: 'tcp', port: 9000 }] }) },
    { name: 'HTTP and TCP with a ClusterIP: separate listeners', yaml: svc('a', 'ns', { clusterIP: '10.0.0.1', ports: [{ name: 'http', port: 9000 }] }) + '---' + svc('b', 'ns', { clusterIP: '10.0.0.2', ports: [{ name: 'tcp', port: 9000 }] }) },
    {
      name: 'same host/port, different protocols, but no namespace sees both',
      yaml: se('a', 'one', { hosts: ['x.example.com'], exportTo: ['.'], addresses: ['1.1.1.1'], ports: [{ number: 9000, name: 'http', protocol: 'HTTP' }] })
        + '---' + se('b', 'two', { hosts: ['x.example.com'], exportTo: ['.'], addresses: ['1.1.1.1'], ports: [{ number: 9000, name: 'tcp', protocol: 'TCP' }] }),
    },
  ],
  invalid: [
    {
      name: 'IST0177: two ServiceEntries, same host and port, HTTP vs TLS',
      yaml: se('a', 'ns', { hosts: ['api.example.com'], ports: [{ number: 443, name: 'https', protocol: 'HTTPS' }] })
        + '---' + se('b', 'ns', { hosts: ['api.example.com'], ports: [{ number: 443, name: 'tls', protocol: 'TLS' }] }),
      expect: [{ code: 'MD1005', target: 'ServiceEntry ns/a' }, { code: 'MD1005', target: 'ServiceEntry ns/b' }],
    },
    {
      name: 'HTTP Service and a TCP ServiceEntry without addresses on 0.0.0.0:9000',
      yaml: svc('web', 'ns', { clusterIP: '10.0.0.1', ports: [{ name: 'http', port: 9000 }] })
        + '---' + se('db', 'other', { hosts: ['db.example.com'], ports: [{ number: 9000, name: 'tcp', protocol: 'TCP' }] }),
      expect: [{ code: 'MD1005', target: 'Service ns/web' }, { code: 'MD1005', target: 'ServiceEntry other/db' }],
    },
  ],
});

describe('static-checks runner', () => {
  it('reports rules as skipped when their inputs are absent', () => {
    const { findings, outcomes } = runStaticChecks(resources(fixture('seed000-service-http-443.yaml')));
    expect(findings.map((f) => f.code)).to.deep.equal(['MD1004']);
    expect(outcomes.map((o) => [o.rule, o.status])).to.deep.equal([
      ['md1003-serviceentry-without-addresses', 'skipped'],
      ['md1004-http-on-443', 'ran'],
      ['md1005-port-protocol-conflict', 'ran'],
      ['md1006-dr-tls-contradicts-peer-authentication', 'skipped'],
    ]);
    expect(outcomes[0].because).to.match(/no ServiceEntry objects/);
  });

  it('every rule has a unique id and a catalog code', () => {
    expect(new Set(STATIC_RULES.map((r) => r.id)).size).to.equal(STATIC_RULES.length);
    for (const r of STATIC_RULES) expect(r.code).to.match(/^MD\d{4}$/);
  });

  it('MD1003 evidence and patch for seed 003: kubectl source, YAML excerpt, the traefik ClusterIP', () => {
    const { findings } = runStaticChecks(resources(fixture('seed003-serviceentry-tls-no-addresses.yaml')));
    const f = findings.find((x) => x.code === 'MD1003')!;
    expect(f.evidence[0].source).to.equal('kubectl get serviceentry traefik-cutom-name -n abc -o yaml');
    expect(f.evidence[0].excerpt).to.contain('protocol: TLS').and.contain('# (no spec.addresses)');
    expect(f.remediation.patch).to.contain('- 10.96.120.15');
    expect(f.message).to.match(/SNI/);
  });

  it('MD1004 patch for seed 000 renames the port to https', () => {
    const { findings } = runStaticChecks(resources(fixture('seed000-service-http-443.yaml')));
    expect(findings[0].remediation.patch).to.contain('name: https');
    expect(findings[0].evidence[0].source).to.equal('kubectl get service my-app -n default -o yaml');
    expect(findings[0].evidence[0].excerpt).to.contain('name: http').and.contain('port: 443');
  });
});

// MD1006: the scenarios' istio.yaml/services.yaml are the seed 004 resources (test/scenarios/seed004-*/scenario.yaml);
// seed004-mtls-era.yaml is the pre-1.5 mesh the seed ran on.
const seed004 = (dir: string) => `${scenario(dir)}\n---\n${readFileSync(join('test', 'scenarios', dir, 'services.yaml'), 'utf8')}`;
const noAutoMtls = meshConfigFromObject({ enableAutoMtls: false });

ruleTester('md1006-dr-tls-contradicts-peer-authentication', {
  valid: [
    { name: 'seed 004 healthy twin: tls ISTIO_MUTUAL', yaml: seed004('seed004-dr-tls-disable-healthy') },
    { name: 'seed 004 no-tls healthy twin', yaml: seed004('seed004-dr-no-tls-automtls-off-healthy'), mesh: noAutoMtls },
    { name: 'no tls and auto mTLS on: the client picks mTLS', yaml: seed004('seed004-dr-no-tls-automtls-off') },
    {
      name: 'DISABLE against a PERMISSIVE server',
      yaml: seed004('seed004-dr-tls-disable').replace('mode: STRICT', 'mode: PERMISSIVE'),
    },
  ],
  invalid: [
    {
      name: 'seed 004: tls DISABLE, mesh-wide STRICT',
      yaml: seed004('seed004-dr-tls-disable'),
      expect: [{ code: 'MD1006', target: 'DestinationRule foo/httpbin', severity: 'error' }],
    },
    {
      name: 'seed 004: no tls with auto mTLS off',
      yaml: seed004('seed004-dr-no-tls-automtls-off'),
      mesh: noAutoMtls,
      expect: [{ code: 'MD1006', target: 'DestinationRule foo/httpbin' }],
    },
    {
      name: 'seed 004 as it happened: Istio 1.4, no tls, MeshPolicy STRICT',
      yaml: fixture('seed004-mtls-era.yaml'),
      istioVersion: parseIstioVersion('1.4.6'),
      expect: [{ code: 'MD1006', target: 'DestinationRule foo/httpbin' }],
    },
    {
      name: 'SIMPLE (TLS without the Istio certificate) against STRICT',
      yaml: seed004('seed004-dr-tls-disable').replace('mode: DISABLE', 'mode: SIMPLE'),
      expect: [{ code: 'MD1006', target: 'DestinationRule foo/httpbin' }],
    },
  ],
});
