import { expect } from 'chai';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { parseConfigDump } from '../../../src/model/envoy/config-dump.js';
import { REPO_ROOT } from '../../support/cli.js';
import { realDumpMissing, rejectedVirtualInboundDump } from '../../support/rejected-dump.js';

const RECORDED = path.join(REPO_ROOT, 'test/fixtures/config-state/envoy-1.40-rejected-lua.config_dump.json');

/** A config dump with the given typed sections (envoy.admin.v3 shapes). */
function dumpOf(...configs: object[]): string {
  return JSON.stringify({ configs });
}

describe('config the proxy rejected or has not made ready (error_state, warming)', () => {
  it("real Envoy 1.40: a listener that exists only as error_state is rejected, with Envoy's reason, and does not serve", () => {
    const dump = parseConfigDump(readFileSync(RECORDED, 'utf8'), 'recorded');
    expect(dump.listeners.map((l) => l.name)).to.deep.equal(['good']);
    const rejected = dump.configProblems.filter((p) => p.state === 'rejected');
    expect(rejected.map((p) => [p.kind, p.name, p.serving])).to.deep.equal([['listener', 'virtualInbound', false]]);
    expect(rejected[0]!.details).to.contain('LuaValidationError.DefaultSourceCode');
    expect(rejected[0]!.details).to.contain('"specifier", reason: is required');
    expect(rejected[0]!.lastUpdateAttempt).to.match(/^2026-/);
    // listeners shows it: allListeners keeps the rejected configuration, marked.
    const all = dump.allListeners.find((l) => l.name === 'virtualInbound');
    expect(all?.state).to.equal('rejected');
    expect(all?.errorDetails).to.contain('LuaValidationError');
  });

  it('the real 1.20.8 sidecar with its virtualInbound rejected (documented transformation): same reading', function () {
    const missing = realDumpMissing();
    if (missing) this.skip();
    const dump = parseConfigDump(rejectedVirtualInboundDump(), 'real 1.20.8, virtualInbound rejected');
    expect(dump.listener('virtualInbound')).to.equal(undefined);
    expect(dump.configProblems.map((p) => [p.kind, p.name, p.state, p.serving])).to.deep.equal([['listener', 'virtualInbound', 'rejected', false]]);
    expect(dump.listeners.length).to.be.greaterThan(10);
  });

  it('an update rejected while an older version still serves: rejected, serving', () => {
    const listener = { name: '0.0.0.0_80', address: { socket_address: { address: '0.0.0.0', port_value: 80 } } };
    const dump = parseConfigDump(dumpOf({
      '@type': 'type.googleapis.com/envoy.admin.v3.ListenersConfigDump',
      dynamic_listeners: [{ name: '0.0.0.0_80', active_state: { listener }, error_state: { failed_configuration: listener, details: 'bad filter', last_update_attempt: '2026-01-01T00:00:00Z' } }],
    }), 'x');
    expect(dump.configProblems.map((p) => [p.name, p.state, p.serving, p.details])).to.deep.equal([['0.0.0.0_80', 'rejected', true, 'bad filter']]);
    expect(dump.listener('0.0.0.0_80')).to.not.equal(undefined);
  });

  it('warming: a listener only in warming_state, a cluster only in dynamic_warming_clusters, a warming secret; error_state on clusters and route configs (admin.v3 protos)', () => {
    const cluster = (name: string) => ({ cluster: { name, type: 'EDS' } });
    const dump = parseConfigDump(dumpOf(
      { '@type': 'type.googleapis.com/envoy.admin.v3.ListenersConfigDump', dynamic_listeners: [{ name: '0.0.0.0_8443', warming_state: { listener: { name: '0.0.0.0_8443' } } }] },
      {
        '@type': 'type.googleapis.com/envoy.admin.v3.ClustersConfigDump',
        dynamic_active_clusters: [{ ...cluster('outbound|80||a.default.svc.cluster.local'), error_state: { details: 'cluster rejected', last_update_attempt: 't' } }],
        dynamic_warming_clusters: [cluster('outbound|443||b.default.svc.cluster.local')],
      },
      { '@type': 'type.googleapis.com/envoy.admin.v3.RoutesConfigDump', dynamic_route_configs: [{ route_config: { name: '80' }, error_state: { details: 'route rejected' } }] },
      { '@type': 'type.googleapis.com/envoy.admin.v3.SecretsConfigDump', dynamic_warming_secrets: [{ name: 'kubernetes://gw-cert' }] },
    ), 'x');
    expect(dump.configProblems.map((p) => [p.kind, p.name, p.state, p.serving])).to.deep.equal([
      ['listener', '0.0.0.0_8443', 'warming', false],
      ['cluster', 'outbound|80||a.default.svc.cluster.local', 'rejected', true],
      ['cluster', 'outbound|443||b.default.svc.cluster.local', 'warming', false],
      ['route', '80', 'rejected', true],
      ['secret', 'kubernetes://gw-cert', 'warming', false],
    ]);
  });

  it('a dump of a healthy proxy has no problems', () => {
    expect(parseConfigDump(dumpOf({ '@type': 'type.googleapis.com/envoy.admin.v3.ListenersConfigDump', dynamic_listeners: [{ name: 'a', active_state: { listener: { name: 'a' } } }] }), 'x').configProblems).to.deep.equal([]);
  });
});
