import { expect } from 'chai';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { configDumpFromJson } from '../../../src/model/envoy/config-dump.js';
import { inboundIdleTimeout } from '../../../src/model/envoy/inbound-idle.js';
import { REPO_ROOT } from '../../support/cli.js';

/**
 * The server sidecar's inbound idle timeout, read from the oracle's dumps:
 * keepalive-inbound-idle's httpbin runs with ISTIO_META_IDLE_TIMEOUT=30s, so
 * Istio's generator wrote it into the inbound listeners; keepalive-race's
 * httpbin runs without it.
 */
const dumpOf = (scenario: string) => path.join(REPO_ROOT, 'test/scenarios', scenario, 'snapshot/proxies/foo/httpbin-94fdb8c79-h9zrq/config_dump?include_eds');

function serverDump(idle?: '30s') {
  const raw = JSON.parse(readFileSync(dumpOf(idle ? 'keepalive-inbound-idle' : 'keepalive-race'), 'utf8'));
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
