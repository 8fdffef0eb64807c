import { expect } from 'chai';
import { destinationRuleFor, destinationRuleView, effectivePolicy, tlsModeOf } from '../../../src/model/istio/destination-rule.js';
import { fixture, resources } from './support.js';

const dr = (namespace: string, name: string, spec: Record<string, unknown>, created = '2024-01-01T00:00:00Z') => `
apiVersion: networking.istio.io/v1
kind: DestinationRule
metadata: {name: ${name}, namespace: ${namespace}, creationTimestamp: "${created}"}
spec: ${JSON.stringify(spec)}
`;

describe('istio/destination-rule', () => {
  describe('seed 004: the circuit-breaking rule replaces the mesh-wide ISTIO_MUTUAL rule', () => {
    const set = resources(fixture('seed004-mtls-era.yaml'));

    it('views: host resolved from the short name, connection pool, legacy consecutiveErrors', () => {
      const rule = destinationRuleView(set.get('DestinationRule', 'foo', 'httpbin')!);
      expect(rule.host).to.equal('httpbin');
      expect(rule.fqdn).to.equal('httpbin.foo.svc.cluster.local');
      expect(rule.trafficPolicy?.tls).to.equal(undefined);
      expect(rule.trafficPolicy?.connectionPool).to.deep.equal({ tcp: { maxConnections: 1 }, http: { http1MaxPendingRequests: 1, maxRequestsPerConnection: 1 } });
      expect(rule.trafficPolicy?.outlierDetection).to.include({ consecutiveErrors: 1, effectiveConsecutive5xxErrors: 1, interval: '1s', baseEjectionTime: '3m', maxEjectionPercent: 100 });
    });

    it('a client in foo gets httpbin (no tls), shadowing istio-system/default (*.local)', () => {
      const lookup = destinationRuleFor('httpbin.foo.svc.cluster.local', 'foo', set);
      expect(lookup.rule?.name).to.equal('httpbin');
      expect(lookup.step).to.equal('client-namespace');
      expect(lookup.shadowed.map((r) => `${r.namespace}/${r.name}`)).to.deep.equal(['istio-system/default']);
      expect(tlsModeOf(lookup.rule!)).to.deep.equal({});
      expect(lookup.because).to.match(/replaces istio-system\/default/);
    });

    it('a client elsewhere gets httpbin too (exported from the service namespace)', () => {
      const lookup = destinationRuleFor('httpbin.foo.svc.cluster.local', 'bar', set);
      expect(lookup.rule?.name).to.equal('httpbin');
      expect(lookup.step).to.equal('service-namespace');
    });

    it('another host falls back to the mesh-wide rule with ISTIO_MUTUAL', () => {
      const lookup = destinationRuleFor('sleep.foo.svc.cluster.local', 'foo', set);
      expect(lookup.rule?.name).to.equal('default');
      expect(lookup.step).to.equal('root-namespace');
      expect(tlsModeOf(lookup.rule!)).to.deep.equal({ mode: 'ISTIO_MUTUAL', from: 'trafficPolicy' });
    });

    it('the fixed rule (tls ISTIO_MUTUAL) keeps mTLS', () => {
      const fixed = resources(fixture('seed004-mtls-era.yaml'), dr('foo', 'httpbin', { host: 'httpbin', trafficPolicy: { tls: { mode: 'ISTIO_MUTUAL' } } }));
      expect(tlsModeOf(destinationRuleFor('httpbin.foo.svc.cluster.local', 'foo', fixed).rule!).mode).to.equal('ISTIO_MUTUAL');
    });
  });

  it('exportTo ["."] hides a rule from other namespaces', () => {
    const set = resources(dr('foo', 'private', { host: 'httpbin.foo.svc.cluster.local', exportTo: ['.'] }));
    expect(destinationRuleFor('httpbin.foo.svc.cluster.local', 'foo', set).rule?.name).to.equal('private');
    expect(destinationRuleFor('httpbin.foo.svc.cluster.local', 'bar', set).rule).to.equal(undefined);
  });

  it('a rule exported only to another namespace does not apply in its own (SetDestinationRules namespaceLocal)', () => {
    const set = resources(dr('foo', 'for-bar', { host: 'httpbin.foo.svc.cluster.local', exportTo: ['bar'] }));
    expect(destinationRuleFor('httpbin.foo.svc.cluster.local', 'foo', set).rule).to.equal(undefined);
    expect(destinationRuleFor('httpbin.foo.svc.cluster.local', 'bar', set).rule?.name).to.equal('for-bar');
  });

  it('exact host beats wildcard; the most specific wildcard wins', () => {
    const set = resources(
      dr('foo', 'wide', { host: '*.svc.cluster.local' }),
      dr('foo', 'narrow', { host: '*.foo.svc.cluster.local' }),
      dr('foo', 'exact', { host: 'a.foo.svc.cluster.local' }),
    );
    expect(destinationRuleFor('a.foo.svc.cluster.local', 'foo', set).rule?.name).to.equal('exact');
    expect(destinationRuleFor('b.foo.svc.cluster.local', 'foo', set).rule?.name).to.equal('narrow');
    expect(destinationRuleFor('c.bar.svc.cluster.local', 'foo', set).rule?.name).to.equal('wide');
  });

  it('workloadSelector rules apply only to matching clients of their namespace, and win over the plain one', () => {
    const set = resources(
      dr('foo', 'plain', { host: 'httpbin' }, '2024-01-01T00:00:00Z'),
      dr('foo', 'selected', { host: 'httpbin', workloadSelector: { matchLabels: { app: 'sleep' } }, trafficPolicy: { tls: { mode: 'DISABLE' } } }, '2024-02-01T00:00:00Z'),
    );
    expect(destinationRuleFor('httpbin.foo.svc.cluster.local', { namespace: 'foo', labels: { app: 'sleep' } }, set).rule?.name).to.equal('selected');
    expect(destinationRuleFor('httpbin.foo.svc.cluster.local', { namespace: 'foo', labels: { app: 'other' } }, set).rule?.name).to.equal('plain');
    expect(destinationRuleFor('httpbin.foo.svc.cluster.local', { namespace: 'bar', labels: { app: 'sleep' } }, set).rule?.name).to.equal('plain');
  });

  it('several plain rules for one host merge; the oldest is reported first', () => {
    const set = resources(dr('foo', 'newer', { host: 'httpbin' }, '2024-03-01T00:00:00Z'), dr('foo', 'older', { host: 'httpbin' }, '2024-01-01T00:00:00Z'));
    const lookup = destinationRuleFor('httpbin.foo.svc.cluster.local', 'foo', set);
    expect(lookup.rule?.name).to.equal('older');
    expect(lookup.mergedWith.map((r) => r.name)).to.deep.equal(['newer']);
  });

  it('effective policy: subset and port-level settings override whole fields', () => {
    const rule = destinationRuleView(resources(dr('foo', 'r', {
      host: 'httpbin',
      trafficPolicy: { tls: { mode: 'ISTIO_MUTUAL' }, portLevelSettings: [{ port: { number: 8443 }, tls: { mode: 'SIMPLE' } }] },
      subsets: [{ name: 'v1', labels: { version: 'v1' }, trafficPolicy: { tls: { mode: 'DISABLE' } } }],
    })).of('DestinationRule')[0]);
    expect(tlsModeOf(rule).mode).to.equal('ISTIO_MUTUAL');
    expect(tlsModeOf(rule, { port: 8443 })).to.deep.equal({ mode: 'SIMPLE', from: 'trafficPolicy.portLevelSettings[port 8443]' });
    expect(tlsModeOf(rule, { subset: 'v1' }).mode).to.equal('DISABLE');
    expect(effectivePolicy(rule, { subset: 'nope' }).policy.tls?.mode).to.equal('ISTIO_MUTUAL');
  });

  it('a client in the root namespace uses its private rules first', () => {
    const set = resources(dr('istio-system', 'local', { host: 'httpbin.foo.svc.cluster.local', exportTo: ['.'] }), dr('foo', 'svc', { host: 'httpbin' }));
    expect(destinationRuleFor('httpbin.foo.svc.cluster.local', 'istio-system', set).rule?.name).to.equal('local');
    expect(destinationRuleFor('httpbin.foo.svc.cluster.local', 'bar', set).rule?.name).to.equal('svc');
  });
});
