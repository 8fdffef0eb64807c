import { expect } from 'chai';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { parseConfigDump } from '../../../src/model/envoy/config-dump.js';
import { formatRef, parseKubeObjects, ResourceSet } from '../../../src/model/k8s/resources.js';
import { portOwnership, staticPortDeclarations } from '../../../src/model/outbound/index.js';
import { REPO_ROOT } from '../../support/cli.js';

const DIR = path.join(REPO_ROOT, 'test/fixtures/egress/seed003-istio-1.11-catch-all');
const resources = new ResourceSet([
  ...parseKubeObjects(readFileSync(path.join(DIR, 'cluster/k8s-resources'), 'utf8'), 'k8s'),
  ...parseKubeObjects(readFileSync(path.join(DIR, 'cluster/crs'), 'utf8'), 'crs'),
]);
const dumpOf = (ns: string, pod: string) => parseConfigDump(readFileSync(path.join(DIR, 'proxies', ns, pod, 'config_dump?include_eds'), 'utf8'), pod);

describe('outbound: who owns a port', () => {
  it('lists every chain with its owner and marks the catch-all that owns unmatched traffic', () => {
    const o = portOwnership(dumpOf('istio-demo', 'sample-c59f744df-8kq7m'), 443, resources);
    const rows = o.chains.map((c) => `${c.match} | ${c.owners.map(formatRef).join(',')} | ${c.capturesUnmatched}`);
    expect(rows).to.include('ALL | ServiceEntry abc/traefik-cutom-name | true');
    expect(rows).to.include('SNI: music.baidu.com | ServiceEntry default/external-svc-https-qqapi | false');
    expect(o.unmatchedTls.outcome.cluster).to.equal('outbound|443||traefik.cutom-name');
    expect(o.unmatchedOwners.map(formatRef)).to.deep.equal(['ServiceEntry abc/traefik-cutom-name']);
  });

  it('different pods, different winners', () => {
    const o = portOwnership(dumpOf('bookinfo', 'reviews-v1-545db77b95-6xq4l'), 443, resources);
    expect(o.unmatchedOwners.map(formatRef)).to.deep.equal(['ServiceEntry bookinfo/mysql-cutom-name']);
  });

  it('static view: every declaration of the port, its protocol, addresses and who sees it', () => {
    const decl = staticPortDeclarations(resources, 443);
    const byRef = new Map(decl.map((d) => [formatRef(d.ref), d]));
    expect(byRef.get('Service abc/traefik')).to.include({ protocol: 'HTTPS', wildcardListener: false });
    const traefik = byRef.get('ServiceEntry abc/traefik-cutom-name')!;
    expect(traefik).to.include({ protocol: 'TLS', wildcardListener: true });
    expect(traefik.addresses).to.deep.equal([]);
    // The Sidecar in bookinfo (egress ./*) hides abc's entry from bookinfo, not from istio-demo.
    expect(traefik.visibleIn).to.include('istio-demo').and.not.include('bookinfo');
    expect(traefik.hiddenIn.map((h) => h.namespace)).to.deep.equal(['bookinfo']);
    expect(byRef.get('ServiceEntry bookinfo/mysql-cutom-name')!.visibleIn).to.include('bookinfo');
  });
});

describe('owner.ts: owners from cluster metadata and route metadata', () => {
  it('a VirtualService named by route metadata (filter_metadata.istio.config) is an owner of an HTTP chain', async () => {
    const { FilterChain } = await import('../../../src/model/envoy/listeners.js');
    const { virtualServicesOfChain } = await import('../../../src/model/owner.js');
    const chain = new FilterChain({
      filters: [{
        name: 'envoy.filters.network.http_connection_manager',
        typed_config: {
          '@type': 'type.googleapis.com/envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager',
          route_config: { name: 'inline', virtual_hosts: [{ name: 'h', domains: ['*'], routes: [{ match: { prefix: '/' }, route: { cluster: 'outbound|80||h.foo.svc.cluster.local' }, metadata: { filter_metadata: { istio: { config: '/apis/networking.istio.io/v1alpha3/namespaces/foo/virtual-service/reviews-route' } } } }] }] },
        },
      }],
    });
    expect(virtualServicesOfChain(chain).map(formatRef)).to.deep.equal(['VirtualService foo/reviews-route']);
  });

  it('an HTTP chain\'s owners include the ServiceEntry behind its routes\' clusters', async () => {
    const { ownersOfChain } = await import('../../../src/model/owner.js');
    const root = path.join(REPO_ROOT, 'test/scenarios/seed002-registry-only-unregistered-healthy/snapshot');
    const res = new ResourceSet([
      ...parseKubeObjects(readFileSync(path.join(root, 'cluster/k8s-resources'), 'utf8'), 'k8s'),
      ...parseKubeObjects(readFileSync(path.join(root, 'cluster/crs'), 'utf8'), 'crs'),
    ]);
    const dump = parseConfigDump(readFileSync(path.join(root, 'proxies/default/ubuntu-deployment-54bbd6f4ff-q9sdj/config_dump?include_eds'), 'utf8'), 'ubuntu');
    const listener = dump.listener('0.0.0.0_80')!;
    const chain = listener.filterChains.find((c) => c.httpConnectionManager)!;
    expect(ownersOfChain(chain, res, dump).map(formatRef)).to.include('ServiceEntry default/external-svc');
  });
});
