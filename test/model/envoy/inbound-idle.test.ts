import { expect } from 'chai';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { configDumpFromJson } from '../../../src/model/envoy/config-dump.js';
import { inboundIdleTimeout } from '../../../src/model/envoy/inbound-idle.js';
import { REPO_ROOT } from '../../support/cli.js';
import { withInboundIdle } from '../../support/inbound-idle.js';

/** The server sidecar's inbound idle timeout, read from the oracle's dump for test/scenarios/keepalive-race (see test/support/inbound-idle.ts). */
const DUMP = path.join(REPO_ROOT, 'test/scenarios/keepalive-race/snapshot/proxies/foo/httpbin-94fdb8c79-h9zrq/config_dump?include_eds');

function serverDump(idle?: string) {
  const raw = JSON.parse(readFileSync(DUMP, 'utf8'));
  return configDumpFromJson(idle === undefined ? raw : withInboundIdle(raw, idle), 'httpbin config dump');
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
