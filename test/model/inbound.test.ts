import { existsSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { expect } from 'chai';
import fc from 'fast-check';
import { ParseError } from '../../src/errors.js';
import { type InboundForwarding, classifyInboundCluster, inboundClusterPort, inboundForwardingFromConfigDump } from '../../src/model/inbound.js';

// The seed 001 diff (shared/seeds/001_e9ba7b2a39037442.txt lines 122-150) of the same inbound cluster before and after 1.10.
const STATIC_19 = {
  name: 'inbound|8080||',
  type: 'STATIC',
  connect_timeout: '10s',
  load_assignment: { cluster_name: 'inbound|8080||', endpoints: [{ lb_endpoints: [{ endpoint: { address: { socket_address: { address: '127.0.0.1', port_value: 8080 } } } }] }] },
};
const ORIGINAL_DST_110 = {
  name: 'inbound|8080||',
  type: 'ORIGINAL_DST',
  cleanup_interval: '60s',
  lb_policy: 'CLUSTER_PROVIDED',
  upstream_bind_config: { source_address: { address: '127.0.0.6', port_value: 0 } },
};

type Expectation = Partial<Pick<InboundForwarding, 'mode' | 'port' | 'sourceAddress' | 'targetAddress' | 'inbound' | 'name'>>;

describe('model/inbound', () => {
  describe('classifyInboundCluster', function () {
    const cases: Array<[string, unknown, Expectation]> = [
      ['Istio 1.9 (seed 001): STATIC to 127.0.0.1:8080', STATIC_19, { mode: 'static-localhost', port: 8080, targetAddress: '127.0.0.1', inbound: true }],
      ['Istio 1.10 (seed 001): ORIGINAL_DST bound to 127.0.0.6', ORIGINAL_DST_110, { mode: 'original-dst-127.0.0.6', port: 8080, sourceAddress: '127.0.0.6', inbound: true }],
      [
        'older name with the port name and host: inbound|9080|http|productpage.default.svc.cluster.local',
        { ...STATIC_19, name: 'inbound|9080|http|productpage.default.svc.cluster.local', load_assignment: { endpoints: [{ lb_endpoints: [{ endpoint: { address: { socket_address: { address: '127.0.0.1', port_value: 9080 } } } }] }] } },
        { mode: 'static-localhost', port: 9080, targetAddress: '127.0.0.1' },
      ],
      ['a config_dump entry ({version_info, cluster, last_updated})', { version_info: '2021-06-30T05:21:52Z/12', cluster: ORIGINAL_DST_110, last_updated: '2021-06-30T05:21:53Z' }, { mode: 'original-dst-127.0.0.6', port: 8080 }],
      ['camelCase field names', { name: 'inbound|8080||', type: 'ORIGINAL_DST', lbPolicy: 'CLUSTER_PROVIDED', upstreamBindConfig: { sourceAddress: { address: '127.0.0.6', portValue: 0 } } }, { mode: 'original-dst-127.0.0.6', sourceAddress: '127.0.0.6' }],
      ['IPv6: ORIGINAL_DST bound to ::6', { ...ORIGINAL_DST_110, upstream_bind_config: { source_address: { address: '::6', port_value: 0 } } }, { mode: 'original-dst-127.0.0.6', sourceAddress: '::6' }],
      ['ORIGINAL_DST without the 127.0.0.6 bind', { name: 'inbound|8080||', type: 'ORIGINAL_DST', lb_policy: 'CLUSTER_PROVIDED' }, { mode: 'original-dst', port: 8080 }],
      ['InboundPassthroughClusterIpv4: no port', { name: 'InboundPassthroughClusterIpv4', type: 'ORIGINAL_DST', lb_policy: 'CLUSTER_PROVIDED', upstream_bind_config: { source_address: { address: '127.0.0.6', port_value: 0 } } }, { mode: 'original-dst-127.0.0.6', inbound: true }],
      ['an outbound EDS cluster is "other", not inbound', { name: 'outbound|9080||reviews.default.svc.cluster.local', type: 'EDS' }, { mode: 'other', inbound: false }],
      [
        'STATIC to the pod IP is "other" (not the localhost shape)',
        { name: 'inbound|8080||', type: 'STATIC', load_assignment: { endpoints: [{ lb_endpoints: [{ endpoint: { address: { socket_address: { address: '10.0.0.5', port_value: 8080 } } } }] }] } },
        { mode: 'other', targetAddress: '10.0.0.5', port: 8080 },
      ],
      ['an empty object', {}, { mode: 'other', inbound: false }],
      ['fields of the wrong types are ignored', { name: 7, type: ['STATIC'], load_assignment: 'x', upstream_bind_config: null }, { mode: 'other', inbound: false }],
    ];
    for (const [title, json, expected] of cases) {
      it(title, function () {
        const r = classifyInboundCluster(json);
        expect(r).to.include(expected);
        expect(r.explanation).to.be.a('string').and.not.equal('');
      });
    }

    it('the passthrough cluster has no app port', function () {
      expect(classifyInboundCluster({ name: 'InboundPassthroughClusterIpv4', type: 'ORIGINAL_DST' }).port).to.equal(undefined);
    });

    const bad: Array<[string, unknown, RegExp]> = [
      ['null', null, /got null/],
      ['an array', [STATIC_19], /got an array/],
      ['a string', 'inbound|8080||', /got string/],
      ['a number', 8080, /got number/],
    ];
    for (const [title, json, message] of bad) {
      it(`rejects ${title} with a ParseError`, function () {
        expect(() => classifyInboundCluster(json))
          .to.throw(ParseError)
          .with.property('message')
          .that.matches(message);
      });
    }

    it('any JSON value: a classification or a ParseError, never anything else', function () {
      fc.assert(
        fc.property(fc.oneof(fc.jsonValue(), fc.record({ name: fc.string(), type: fc.constantFrom('STATIC', 'ORIGINAL_DST', 'EDS'), load_assignment: fc.jsonValue(), upstream_bind_config: fc.jsonValue() })), (v) => {
          try {
            const r = classifyInboundCluster(v);
            expect(['static-localhost', 'original-dst-127.0.0.6', 'original-dst', 'other']).to.include(r.mode);
          } catch (e) {
            if (!(e instanceof ParseError)) throw e;
          }
        }),
        { numRuns: 1000 },
      );
    });

    it('inboundClusterPort reads both name shapes', function () {
      expect(inboundClusterPort('inbound|9080||')).to.equal(9080);
      expect(inboundClusterPort('inbound|9080|http|productpage.default.svc.cluster.local')).to.equal(9080);
      expect(inboundClusterPort('outbound|9080||reviews')).to.equal(undefined);
      expect(inboundClusterPort('inbound|99999||')).to.equal(undefined);
    });
  });

  describe('real config dumps (../shared/data/real-config-dumps)', function () {
    const cases: Array<[string, string, Expectation]> = [
      ['Istio 1.9.1 productpage: STATIC to 127.0.0.1:9080', 'istio-1.9.1-productpage.config_dump.json', { name: 'inbound|9080||', mode: 'static-localhost', port: 9080, targetAddress: '127.0.0.1' }],
      ['Istio 1.20.8 hello-openshift: ORIGINAL_DST from 127.0.0.6', 'istio-1.20.8-hello-openshift.config_dump.json', { name: 'inbound|8080||', mode: 'original-dst-127.0.0.6', port: 8080, sourceAddress: '127.0.0.6' }],
    ];
    for (const [title, file, expected] of cases) {
      it(title, function () {
        const url = new URL(`../../../shared/data/real-config-dumps/${file}`, import.meta.url);
        if (!existsSync(url)) {
          console.log(`      skipped: ${fileURLToPath(url)} is not there (the real dumps live beside the project, in ../shared/data)`);
          this.skip();
        }
        const all = inboundForwardingFromConfigDump(JSON.parse(readFileSync(url, 'utf8')));
        const app = all.find((f) => f.name === expected.name);
        expect(app, `no ${expected.name} in ${file}`).to.not.equal(undefined);
        expect(app).to.include(expected);
        // Both releases already bind the passthrough cluster to 127.0.0.6 (why ISTIO_OUTPUT had that rule before 1.10).
        expect(all.find((f) => f.name === 'InboundPassthroughClusterIpv4')).to.include({ mode: 'original-dst-127.0.0.6' });
      });
    }

    it('a config_dump without "configs" is a ParseError', function () {
      expect(() => inboundForwardingFromConfigDump({ clusters: [] })).to.throw(ParseError, /no "configs" array/);
      expect(() => inboundForwardingFromConfigDump('[]')).to.throw(ParseError);
    });
  });
});
