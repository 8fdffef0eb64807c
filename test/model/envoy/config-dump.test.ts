import { expect } from 'chai';
import fc from 'fast-check';
import { ParseError } from '../../../src/errors.js';
import {
  configDumpFromJson,
  formatListenerTable,
  listenerTable,
  parseClustersJson,
  parseConfigDump,
  parseListenersJson,
} from '../../../src/model/envoy/index.js';
import { T, fullDump, listeners } from './fixtures.js';

function parseError(fn: () => unknown): ParseError {
  try {
    fn();
  } catch (e) {
    expect(e).to.be.instanceOf(ParseError);
    return e as ParseError;
  }
  expect.fail('expected a ParseError');
}

/** Touches every view so a property test also proves the views never crash. */
function exercise(text: string): void {
  const d = parseConfigDump(text, 'x');
  void d.node;
  void d.versions;
  for (const l of d.allListeners) {
    void [l.name, l.address, l.additionalAddresses, l.trafficDirection, l.useOriginalDst, l.bindToPort, l.listenerFilters, l.hasFilterChainMatcher];
    for (const f of l.allFilterChains) {
      void [f.name, f.match, f.transportSocket, f.terminatesTls, f.terminalFilter, f.httpConnectionManager, f.tcpProxy];
      for (const nf of f.filters) void [nf.kind, nf.typeName, nf.tcpProxy, nf.httpConnectionManager?.inlineRouteConfig?.clusterNames()];
    }
  }
  for (const c of d.clusters) {
    void [c.name, c.istioName, c.type, c.lbPolicy, c.upstreamBindAddress, c.staticEndpoints, c.tlsMode, c.sni, c.circuitBreakers, c.outlierDetection, c.destinationRule, c.services, c.maxRequestsPerConnection, c.connectTimeoutSeconds];
  }
  for (const r of d.routeConfigs) for (const vh of r.virtualHosts) for (const rt of vh.routes) void [rt.match, rt.action, rt.virtualService, rt.name];
  for (const e of d.endpoints) void e.endpoints;
  for (const s of d.secrets) void s.pem();
  formatListenerTable(listenerTable(d, { port: 80, type: 'tcp', address: '0.0.0.0' }));
  formatListenerTable(listenerTable(d));
}

describe('model/envoy parseConfigDump', () => {
  describe('good input', () => {
    it('indexes every section of a full dump', () => {
      const d = parseConfigDump(JSON.stringify(fullDump()), 'config_dump of productpage');
      expect(d.what).to.equal('config_dump of productpage');
      expect(d.kinds).to.have.members([
        'BootstrapConfigDump',
        'ClustersConfigDump',
        'ListenersConfigDump',
        'ScopedRoutesConfigDump',
        'RoutesConfigDump',
        'EndpointsConfigDump',
        'SecretsConfigDump',
      ]);
      expect(d.has('EndpointsConfigDump')).to.equal(true);
      expect(d.unknownTypes).to.deep.equal([]);
      expect(d.listeners.map((l) => l.name)).to.deep.equal(['0.0.0.0_443', '0.0.0.0_80', 'virtualOutbound', 'virtualInbound']);
      expect(d.allListeners.map((l) => `${l.name}:${l.state}`)).to.deep.equal([
        '0.0.0.0_443:active',
        '0.0.0.0_80:active',
        'virtualOutbound:active',
        'virtualOutbound:draining',
        'virtualInbound:active',
        '0.0.0.0_9999:warming',
      ]);
      expect(d.allListeners.at(-1)!.errorDetails).to.equal('cannot bind 0.0.0.0:9999');
      expect(d.clusters).to.have.length(9);
      expect(d.cluster('inbound|8080||')!.state).to.equal('warming');
      expect(d.routeConfig('80')!.state).to.equal('dynamic');
      expect(d.routeConfig('static-health')!.state).to.equal('static');
      expect(d.endpoints).to.have.length(1);
      expect(d.secrets.map((s) => s.name)).to.deep.equal(['default', 'ROOTCA']);
    });

    it('keeps the raw objects instead of copying them', () => {
      const raw = fullDump();
      const d = configDumpFromJson(raw, 'x');
      const configs = raw.configs as { dynamic_listeners?: { active_state: { listener: unknown } }[] }[];
      expect(d.listener('0.0.0.0_443')!.raw).to.equal(configs[2]!.dynamic_listeners![0]!.active_state.listener);
      expect(d.listener('0.0.0.0_443')).to.equal(d.listener('0.0.0.0_443'));
    });

    it('accepts an empty configs list (a dump filtered by ?mask) and reports absent sections', () => {
      const d = parseConfigDump('{"configs":[]}', 'x');
      expect(d.listeners).to.deep.equal([]);
      expect(d.node).to.equal(undefined);
      expect(d.has('ListenersConfigDump')).to.equal(false);
    });

    it('reports @types it does not read instead of failing', () => {
      const d = parseConfigDump(JSON.stringify({ configs: [{ '@type': 'type.googleapis.com/envoy.admin.v3.FutureConfigDump' }] }), 'x');
      expect(d.unknownTypes).to.deep.equal(['type.googleapis.com/envoy.admin.v3.FutureConfigDump']);
    });

    it('reads istioctl proxy-config -o json lists (camelCase) with the same views', () => {
      const text = JSON.stringify([
        {
          name: 'virtualOutbound',
          address: { socketAddress: { address: '0.0.0.0', portValue: 15001 } },
          filterChains: [
            { filterChainMatch: { destinationPort: 15001 }, filters: [{ name: 'envoy.filters.network.tcp_proxy', typedConfig: { '@type': T.tcp, statPrefix: 'BlackHoleCluster', cluster: 'BlackHoleCluster' } }] },
            { filters: [{ name: 'envoy.filters.network.tcp_proxy', typedConfig: { '@type': T.tcp, statPrefix: 'PassthroughCluster', cluster: 'PassthroughCluster' } }] },
          ],
          useOriginalDst: true,
          trafficDirection: 'OUTBOUND',
        },
      ]);
      const ls = parseListenersJson(text, 'istioctl pc listeners -o json');
      expect(ls).to.have.length(1);
      expect(ls[0]!.state).to.equal('bare');
      expect(ls[0]!.useOriginalDst).to.equal(true);
      expect(ls[0]!.port).to.equal(15001);
      expect(ls[0]!.filterChains[0]!.match.destinationPort).to.equal(15001);
      expect(formatListenerTable(listenerTable(ls))).to.equal(
        [
          'ADDRESSES PORT  MATCH         DESTINATION',
          '0.0.0.0   15001 ALL           PassthroughCluster',
          '0.0.0.0   15001 Addr: *:15001 Non-HTTP/Non-TCP',
          '',
        ].join('\n'),
      );
      const cs = parseClustersJson(JSON.stringify([{ name: 'inbound|9080||', type: 'STATIC', loadAssignment: { endpoints: [{ lbEndpoints: [{ endpoint: { address: { socketAddress: { address: '127.0.0.1', portValue: 9080 } } } }] }] } }]), 'x');
      expect(cs[0]!.staticEndpoints[0]!.address).to.deep.equal({ address: '127.0.0.1', port: 9080 });
    });

    it('lets the list readers take a whole config dump too', () => {
      const text = JSON.stringify(fullDump());
      expect(parseListenersJson(text, 'x').map((l) => l.name)).to.include('virtualInbound');
      expect(parseClustersJson(text, 'x').map((c) => c.name)).to.include('BlackHoleCluster');
    });
  });

  describe('bad input', () => {
    const cases: [string, string, RegExp][] = [
      ['empty text', '', /is empty/],
      ['whitespace', '  \n', /is empty/],
      ['a kubectl error', 'error: unable to upgrade connection: container not found ("istio-proxy")', /is not JSON: it starts with "error: unable to upgrade connection/],
      ['an HTML page', '<html><body>503</body></html>', /is not JSON: it starts with "<html>/],
      ['truncated JSON', JSON.stringify(fullDump()).slice(0, 500), /is truncated/],
      ['truncated in a string', '{"configs":[{"@type":"type.googleapis.com/envoy.adm', /is truncated/],
      ['broken JSON in the middle', '{"configs":[}{]}', /is not valid JSON/],
      ['a JSON string', '"hello"', /not an Envoy config dump.*it is a string/],
      ['JSON null', 'null', /it is a null/],
      ['a number', '42', /it is a number/],
      ['an object without configs', '{"version":"abc","state":"LIVE"}', /has no "configs" field \(top-level fields: version, state\)/],
      ['configs not a list', '{"configs":{}}', /"configs" is not a list/],
      ['configs without @type', '{"configs":[{"a":1},2]}', /none of its 2 "configs" entries has an "@type"/],
      ['an istioctl list', '[{"name":"virtualOutbound"}]', /is a JSON list.*istioctl proxy-config/],
    ];
    for (const [name, text, re] of cases) {
      it(`rejects ${name} with a ParseError a human can read`, () => {
        const e = parseError(() => parseConfigDump(text, 'config_dump of sleep-7f.foo'));
        expect(e.message).to.match(/^config_dump of sleep-7f\.foo: /);
        expect(e.message).to.match(re);
        expect(e.kind).to.equal('parse');
        expect(e.what).to.equal('config_dump of sleep-7f.foo');
      });
    }

    it('rejects lists that are not lists of listeners or clusters', () => {
      expect(parseError(() => parseListenersJson('[1,2]', 'x')).message).to.match(/item 0 is not an object/);
      expect(parseError(() => parseClustersJson('{"a":1}', 'x')).message).to.match(/not a list of clusters/);
      expect(parseError(() => parseListenersJson('[{"name":', 'x')).message).to.match(/truncated/);
    });

    it('reads odd shapes inside a valid dump as absent instead of crashing', () => {
      const odd = {
        configs: [
          { '@type': T.bootstrap, bootstrap: { node: 'not-an-object' } },
          { '@type': T.listeners, dynamic_listeners: [null, 1, { active_state: { listener: { name: 5, address: 'x', filter_chains: 'nope', default_filter_chain: [] } } }], static_listeners: {} },
          { '@type': T.clusters, static_clusters: [{ cluster: { name: 'c', transport_socket_matches: [{ match: null }], circuit_breakers: { thresholds: 'x' } } }] },
        ],
      };
      const text = JSON.stringify(odd);
      expect(() => exercise(text)).not.to.throw();
      const d = parseConfigDump(text, 'x');
      expect(d.node).to.equal(undefined);
      expect(d.listeners).to.have.length(1);
      expect(d.listeners[0]!.name).to.equal('');
      expect(d.listeners[0]!.filterChains).to.deep.equal([]);
      expect(d.clusters[0]!.tlsMode).to.equal('plaintext');
    });
  });

  describe('properties', () => {
    it('any string: a ConfigDump or a ParseError, never anything else', () => {
      fc.assert(
        fc.property(fc.string(), (s) => {
          try {
            parseConfigDump(s, 'x');
          } catch (e) {
            expect(e).to.be.instanceOf(ParseError);
          }
        }),
        { numRuns: 500 },
      );
    });

    it('any JSON value: a ConfigDump or a ParseError; views over what parses never crash', () => {
      fc.assert(
        fc.property(fc.jsonValue(), (v) => {
          const text = JSON.stringify(v) ?? 'null';
          try {
            exercise(text);
          } catch (e) {
            expect(e).to.be.instanceOf(ParseError);
          }
        }),
        { numRuns: 500 },
      );
    });

    it('arbitrary JSON inside each section never crashes the views or the listener table', () => {
      const section = fc.constantFrom(...Object.values(T).filter((t) => t.includes('admin.v3')));
      const keys = fc.constantFrom(
        'dynamic_listeners', 'static_listeners', 'static_clusters', 'dynamic_active_clusters', 'dynamic_warming_clusters',
        'dynamic_route_configs', 'static_route_configs', 'dynamic_endpoint_configs', 'dynamic_active_secrets', 'bootstrap',
      );
      const listenerish = fc.record({
        name: fc.oneof(fc.string(), fc.jsonValue()),
        address: fc.oneof(fc.jsonValue(), fc.record({ socket_address: fc.record({ address: fc.string(), port_value: fc.oneof(fc.integer(), fc.jsonValue()) }) })),
        filter_chains: fc.array(fc.record({ filter_chain_match: fc.jsonValue(), filters: fc.array(fc.record({ name: fc.constantFrom('envoy.filters.network.tcp_proxy', 'envoy.filters.network.http_connection_manager', 'x'), typed_config: fc.jsonValue() })) }), { maxLength: 4 }),
        default_filter_chain: fc.jsonValue(),
      });
      const entry = fc.oneof(
        fc.jsonValue(),
        listenerish.map((l) => ({ active_state: { listener: l }, listener: l, cluster: l, route_config: l, endpoint_config: l, secret: l })),
      );
      fc.assert(
        fc.property(fc.array(fc.tuple(section, keys, fc.array(entry, { maxLength: 4 })), { maxLength: 5 }), (parts) => {
          const dump = { configs: parts.map(([t, k, entries]) => ({ '@type': t, [k]: k === 'bootstrap' ? { node: entries[0] } : entries })) };
          exercise(JSON.stringify(dump));
        }),
        { numRuns: 300 },
      );
    });

    it('a valid dump cut anywhere is rejected as truncated or invalid, never half-read', () => {
      const text = JSON.stringify({ configs: [{ '@type': T.listeners, dynamic_listeners: [{ active_state: { listener: listeners.http80 } }] }] });
      fc.assert(
        fc.property(fc.integer({ min: 1, max: text.length - 1 }), (cut) => {
          const e = parseError(() => parseConfigDump(text.slice(0, cut), 'x'));
          expect(e.message).to.match(/truncated|not valid JSON/);
        }),
        { numRuns: 200 },
      );
    });
  });
});
