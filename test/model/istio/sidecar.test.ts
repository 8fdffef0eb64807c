import { expect } from 'chai';
import { sidecarFor, sidecarView, visibleTo } from '../../../src/model/istio/sidecar.js';
import { podView } from '../../../src/model/k8s/pods.js';
import { fixture, resources } from './support.js';

const sidecar = (namespace: string, name: string, spec: Record<string, unknown>) => `
apiVersion: networking.istio.io/v1
kind: Sidecar
metadata: {name: ${name}, namespace: ${namespace}}
spec: ${JSON.stringify(spec)}
`;

describe('istio/sidecar', () => {
  describe('seed 003: Sidecar egress ["./*"] in istio-demo hides the MESH_EXTERNAL entry in default', () => {
    const set = resources(fixture('seed003-sidecar-and-external.yaml'));
    const pod = podView(set.of('Pod')[0]);
    const entry = set.get('ServiceEntry', 'default', 'external-svc-https-qqapi')!;

    it('the Sidecar applies to the pod (namespace-wide)', () => {
      expect(sidecarFor(pod, set).sidecar?.name).to.equal('default');
    });

    it('the entry is hidden, by the Sidecar', () => {
      const v = visibleTo(pod, entry, set);
      expect(v.visible).to.equal(false);
      expect(v.hiddenBy).to.deep.equal({ kind: 'Sidecar', namespace: 'istio-demo', name: 'default' });
      expect(v.because).to.equal('ServiceEntry default/external-svc-https-qqapi is hidden from pod istio-demo/sample-c59f744df-8kq7m by Sidecar istio-demo/default (egress hosts ["./*"]): none imports namespace default with host baike.baidu.com, www.baidu.com, music.baidu.com, dict.baidu.com');
    });

    it('healthy twin: with egress hosts ["./*", "default/*"] it is visible', () => {
      const fixed = resources(fixture('seed003-sidecar-and-external.yaml'), sidecar('istio-demo', 'default', { egress: [{ hosts: ['./*', 'default/*'] }] }));
      const v = visibleTo(pod, entry, fixed);
      expect(v.visible).to.equal(true);
      expect(v.visibleHosts).to.have.length(4);
    });

    it('without any Sidecar everything exported is visible', () => {
      const bare = resources(fixture('seed003-sidecar-and-external.yaml'));
      const withoutSidecar = resources(...bare.of('ServiceEntry').map((o) => JSON.stringify(o)));
      expect(visibleTo(pod, entry, withoutSidecar).visible).to.equal(true);
    });
  });

  it('exportTo hides before any Sidecar is consulted', () => {
    const set = resources(`
apiVersion: networking.istio.io/v1
kind: ServiceEntry
metadata: {name: private, namespace: abc}
spec: {hosts: [x.example.com], exportTo: ["."], ports: [{number: 443, name: tls, protocol: TLS}]}
`);
    const se = set.of('ServiceEntry')[0];
    const hidden = visibleTo({ namespace: 'istio-demo' }, se, set);
    expect(hidden.visible).to.equal(false);
    expect(hidden.hiddenBy).to.deep.equal({ kind: 'ServiceEntry', namespace: 'abc', name: 'private' });
    expect(visibleTo({ namespace: 'abc' }, se, set).visible).to.equal(true);
  });

  it('Service exportTo annotation ~ hides from everyone', () => {
    const set = resources(`
apiVersion: v1
kind: Service
metadata: {name: hidden, namespace: abc, annotations: {networking.istio.io/exportTo: "~"}}
spec: {ports: [{port: 80}]}
`);
    expect(visibleTo({ namespace: 'abc' }, set.of('Service')[0], set).visible).to.equal(false);
  });

  it('workloadSelector Sidecar first, then the namespace one, then the root namespace one', () => {
    const set = resources(
      sidecar('istio-system', 'mesh', { egress: [{ hosts: ['istio-system/*'] }] }),
      sidecar('foo', 'ns', { egress: [{ hosts: ['./*'] }] }),
      sidecar('foo', 'sel', { workloadSelector: { labels: { app: 'a' } }, egress: [{ hosts: ['*/*'] }] }),
    );
    expect(sidecarFor({ namespace: 'foo', labels: { app: 'a' } }, set).sidecar?.name).to.equal('sel');
    expect(sidecarFor({ namespace: 'foo', labels: { app: 'b' } }, set).sidecar?.name).to.equal('ns');
    expect(sidecarFor({ namespace: 'bar', labels: {} }, set).sidecar?.name).to.equal('mesh');
  });

  it('egress host forms: */host, ~/*, wildcard hosts, and an empty egress (default */*)', () => {
    const set = resources(
      sidecar('foo', 'one', { egress: [{ hosts: ['*/*.example.com', '~/*', 'bogus'] }] }),
      `
apiVersion: networking.istio.io/v1
kind: ServiceEntry
metadata: {name: ext, namespace: other}
spec: {hosts: [api.example.com], ports: [{number: 443, name: tls, protocol: TLS}]}
---
apiVersion: networking.istio.io/v1
kind: ServiceEntry
metadata: {name: ext2, namespace: other}
spec: {hosts: [api.example.org], ports: [{number: 443, name: tls, protocol: TLS}]}
`,
    );
    const view = sidecarView(set.of('Sidecar')[0]);
    expect(view.egress[0].invalidHosts).to.deep.equal(['bogus']);
    expect(visibleTo({ namespace: 'foo' }, set.get('ServiceEntry', 'other', 'ext')!, set).visible).to.equal(true);
    expect(visibleTo({ namespace: 'foo' }, set.get('ServiceEntry', 'other', 'ext2')!, set).visible).to.equal(false);
    const empty = sidecarView(JSON.parse(JSON.stringify({ apiVersion: 'networking.istio.io/v1', kind: 'Sidecar', metadata: { name: 'e', namespace: 'foo' }, spec: {} })));
    expect(empty.egress[0].hosts[0].raw).to.equal('*/*');
    expect(empty.egressWritten).to.equal(false);
  });
});
