import { expect } from 'chai';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { configDumpFromJson } from '../../../src/model/envoy/config-dump.js';
import { inboundIdleTimeout } from '../../../src/model/envoy/inbound-idle.js';
import { REPO_ROOT } from '../../support/cli.js';

/**
 * The server sidecar's inbound idle timeout, read from its config dump. The
 * dump is the oracle's (Istio's own generator) for test/scenarios/keepalive-race;
 * Istio writes the HTTP connection manager's
 * `common_http_protocol_options.idle_timeout` only when the proxy has
 * ISTIO_META_IDLE_TIMEOUT (pilot/pkg/networking/core/listener_builder.go), which
 * that scenario does not set, so the field is added here in the shape of
 * Envoy's HttpConnectionManager proto (a Duration string, as in the dump's
 * cluster idle_timeout "0.500s").
 */
const DUMP = path.join(REPO_ROOT, 'test/scenarios/keepalive-race/snapshot/proxies/foo/httpbin-94fdb8c79-h9zrq/config_dump?include_eds');

type Json = Record<string, any>;
function serverDump(idle?: string) {
  const raw = JSON.parse(readFileSync(DUMP, 'utf8')) as Json;
  if (idle !== undefined) {
    for (const config of raw.configs as Json[]) {
      for (const l of (config.dynamic_listeners ?? []) as Json[]) {
        if (l.name !== 'virtualInbound') continue;
        for (const chain of l.active_state.listener.filter_chains as Json[]) {
          for (const f of chain.filters as Json[]) {
            if (f.name === 'envoy.filters.network.http_connection_manager') f.typed_config.common_http_protocol_options = { idle_timeout: idle };
          }
        }
      }
    }
  }
  return configDumpFromJson(raw, 'httpbin config dump');
}

describe('inboundIdleTimeout', () => {
  it("reads the inbound HTTP connection manager's idle_timeout for the port", () => {
    const idle = inboundIdleTimeout(serverDump('30s'), 8080);
    expect(idle).to.include({ ms: 30_000, listener: 'virtualInbound' });
    expect(idle?.excerpt).to.contain('"idle_timeout": "30s"');
  });

  it("Istio's generated dump without ISTIO_META_IDLE_TIMEOUT: none (Envoy's 1h default applies)", () => {
    expect(inboundIdleTimeout(serverDump(), 8080)).to.equal(undefined);
  });

  it('another port: none', () => {
    expect(inboundIdleTimeout(serverDump('30s'), 9999)).to.equal(undefined);
  });
});
