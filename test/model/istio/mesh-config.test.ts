import { expect } from 'chai';
import { ParseError } from '../../../src/errors.js';
import { DEFAULT_MESH_CONFIG, meshConfigFrom, parseMeshConfig } from '../../../src/model/istio/mesh-config.js';
import { fixture, resources } from './support.js';

describe('istio/mesh-config', () => {
  it('seed 002: REGISTRY_ONLY from ConfigMap istio-system/istio', () => {
    const mesh = meshConfigFrom(resources(fixture('seed002-mesh-config.yaml')));
    expect(mesh.outboundTrafficPolicyMode).to.equal('REGISTRY_ONLY');
    expect(mesh.source).to.deep.equal({ kind: 'ConfigMap', namespace: 'istio-system', name: 'istio' });
    expect(mesh.explicit).to.deep.equal(['outboundTrafficPolicy.mode']);
    expect(mesh.enableAutoMtls).to.equal(true);
    expect(mesh.rootNamespace).to.equal('istio-system');
  });

  it('defaults when there is no ConfigMap', () => {
    const mesh = meshConfigFrom(resources(''));
    expect(mesh.source).to.equal(undefined);
    expect(mesh.outboundTrafficPolicyMode).to.equal('ALLOW_ANY');
    expect(mesh.defaultServiceExportTo).to.deep.equal(['*']);
  });

  it('prefers istio-<revision>', () => {
    const cm = (name: string, mode: string) => `
apiVersion: v1
kind: ConfigMap
metadata: {name: ${name}, namespace: istio-system}
data:
  mesh: "outboundTrafficPolicy: {mode: ${mode}}"
`;
    const set = resources(cm('istio', 'ALLOW_ANY'), cm('istio-canary', 'REGISTRY_ONLY'));
    expect(meshConfigFrom(set, { revision: 'canary' }).outboundTrafficPolicyMode).to.equal('REGISTRY_ONLY');
    expect(meshConfigFrom(set).outboundTrafficPolicyMode).to.equal('ALLOW_ANY');
  });

  it('reads enableAutoMtls, rootNamespace, exportTo defaults, DNS auto-allocation', () => {
    const mesh = parseMeshConfig(`
enableAutoMtls: false
rootNamespace: istio-config
defaultServiceExportTo: ["."]
defaultConfig:
  proxyMetadata:
    ISTIO_META_DNS_CAPTURE: "true"
    ISTIO_META_DNS_AUTO_ALLOCATE: "true"
`);
    expect(mesh).to.include({ enableAutoMtls: false, rootNamespace: 'istio-config', dnsCapture: true, dnsAutoAllocate: true });
    expect(mesh.defaultServiceExportTo).to.deep.equal(['.']);
    expect(DEFAULT_MESH_CONFIG.enableAutoMtls).to.equal(true);
  });

  it('throws ParseError on YAML that is not a mapping or not YAML', () => {
    expect(() => parseMeshConfig('- a\n- b')).to.throw(ParseError);
    expect(() => parseMeshConfig('a: [unclosed')).to.throw(ParseError);
    expect(parseMeshConfig('').outboundTrafficPolicyMode).to.equal('ALLOW_ANY');
  });
});
