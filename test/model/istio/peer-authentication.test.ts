import { expect } from 'chai';
import { effectiveMtls } from '../../../src/model/istio/peer-authentication.js';
import { fixture, resources } from './support.js';

const pa = (namespace: string, name: string, spec: Record<string, unknown>, created = '2024-01-01T00:00:00Z') => `
apiVersion: security.istio.io/v1
kind: PeerAuthentication
metadata: {name: ${name}, namespace: ${namespace}, creationTimestamp: "${created}"}
spec: ${JSON.stringify(spec)}
`;

describe('istio/peer-authentication (ComposePeerAuthentication)', () => {
  const httpbin = { namespace: 'foo', labels: { app: 'httpbin' } };

  it('no policy: PERMISSIVE by default', () => {
    const result = effectiveMtls(resources(''), httpbin, 80);
    expect(result).to.include({ mode: 'PERMISSIVE', legacy: false });
    expect(result.decidedBy).to.equal(undefined);
  });

  it('mesh < namespace < workload < port', () => {
    const set = resources(
      pa('istio-system', 'default', { mtls: { mode: 'STRICT' } }),
      pa('foo', 'default', { mtls: { mode: 'PERMISSIVE' } }),
      pa('foo', 'httpbin', { selector: { matchLabels: { app: 'httpbin' } }, mtls: { mode: 'STRICT' }, portLevelMtls: { 80: { mode: 'DISABLE' } } }),
    );
    expect(effectiveMtls(set, { namespace: 'bar', labels: {} }).mode).to.equal('STRICT');
    expect(effectiveMtls(set, { namespace: 'foo', labels: { app: 'sleep' } }).mode).to.equal('PERMISSIVE');
    const workload = effectiveMtls(set, httpbin, 8080);
    expect(workload.mode).to.equal('STRICT');
    expect(workload.decidedBy).to.deep.equal({ kind: 'PeerAuthentication', namespace: 'foo', name: 'httpbin' });
    const port = effectiveMtls(set, httpbin, 80);
    expect(port.mode).to.equal('DISABLE');
    expect(port.chain.map((s) => s.level)).to.deep.equal(['default', 'mesh', 'namespace', 'workload', 'port']);
  });

  it('UNSET inherits from the parent level', () => {
    const set = resources(
      pa('istio-system', 'default', { mtls: { mode: 'STRICT' } }),
      pa('foo', 'default', { mtls: { mode: 'UNSET' } }),
      pa('foo', 'httpbin', { selector: { matchLabels: { app: 'httpbin' } }, portLevelMtls: { 80: { mode: 'UNSET' } } }),
    );
    const result = effectiveMtls(set, httpbin, 80);
    expect(result.mode).to.equal('STRICT');
    expect(result.decidedBy?.name).to.equal('default');
    expect(result.decidedBy?.namespace).to.equal('istio-system');
  });

  it('the oldest policy wins within a level; a selector policy in the root namespace is ignored', () => {
    const set = resources(
      pa('foo', 'newer', { mtls: { mode: 'DISABLE' } }, '2024-05-01T00:00:00Z'),
      pa('foo', 'older', { mtls: { mode: 'STRICT' } }, '2024-01-01T00:00:00Z'),
      pa('istio-system', 'selector', { selector: { matchLabels: { app: 'httpbin' } }, mtls: { mode: 'DISABLE' } }),
    );
    expect(effectiveMtls(set, httpbin).decidedBy?.name).to.equal('older');
    expect(effectiveMtls(set, httpbin).mode).to.equal('STRICT');
  });

  it('seed 004: the legacy MeshPolicy peers [{mtls: {}}] means STRICT (pre-1.5)', () => {
    const result = effectiveMtls(resources(fixture('seed004-mtls-era.yaml')), httpbin, 80);
    expect(result.mode).to.equal('STRICT');
    expect(result.legacy).to.equal(true);
    expect(result.decidedBy).to.deep.equal({ kind: 'MeshPolicy', namespace: undefined, name: 'default' });
    expect(result.because).to.match(/legacy MeshPolicy/);
  });

  it('legacy: MeshPolicy PERMISSIVE; namespace Policy overrides it', () => {
    const set = resources(`
apiVersion: authentication.istio.io/v1alpha1
kind: MeshPolicy
metadata: {name: default}
spec: {peers: [{mtls: {mode: PERMISSIVE}}]}
---
apiVersion: authentication.istio.io/v1alpha1
kind: Policy
metadata: {name: default, namespace: foo}
spec: {peers: [{mtls: {}}]}
`);
    expect(effectiveMtls(set, { namespace: 'bar' }).mode).to.equal('PERMISSIVE');
    expect(effectiveMtls(set, httpbin).mode).to.equal('STRICT');
  });
});
