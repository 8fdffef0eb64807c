import { expect } from 'chai';
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { parseAccessLog } from '../../../src/model/logs/access-log.js';
import { decodeResponseCodeDetails, decodeTransportFailureReason } from '../../../src/model/logs/response-flags.js';
import { parseEnvoyLog } from '../../../src/model/logs/envoy-log.js';
import { explain } from '../../../src/explain/explain.js';
import { rbacDenialPolicy } from '../../../src/model/envoy/rbac.js';
import { REPO_ROOT } from '../../support/cli.js';

/**
 * The product's parsers on lines real Envoy 1.40 printed in the mesh lab
 * (test/fixtures/lab, recorded by `npm run lab:record`; PROVENANCE.md there).
 */
const LAB = path.join(REPO_ROOT, 'test/fixtures/lab');
const read = (scenario: string, file: string) => readFileSync(path.join(LAB, scenario, file), 'utf8');
const access = (scenario: string, file: string) => parseAccessLog(read(scenario, file)).entries;

describe('real Envoy 1.40 lines from the mesh lab', () => {
  it('every line of every recording is recognised: an access-log entry or (part of) an Envoy log event, multi-line debug messages included', () => {
    for (const scenario of readdirSync(LAB).filter((f) => !f.endsWith('.md'))) {
      for (const file of readdirSync(path.join(LAB, scenario)).filter((f) => f.endsWith('.istio-proxy.log'))) {
        const text = read(scenario, file);
        const empty = text.split('\n').filter((l) => l === '').length;
        const accessCount = parseAccessLog(text).entries.length;
        // parseEnvoyLog counts every line that is not (part of) an Envoy event: here only access-log lines.
        expect(parseEnvoyLog(text).otherLines - empty, `${scenario}/${file}`).to.equal(accessCount);
      }
    }
  });

  it('why-403: a DENY rule is named in the 403 line and in the rbac debug lines; the identity the server saw is there', () => {
    const server = 'foo.httpbin-94fdb8c79-h9zrq.istio-proxy.log';
    const [denied] = access('authz-deny-before-allow', server);
    expect(denied).to.include({ responseCode: 403, responseCodeDetails: 'rbac_access_denied_matched_policy[ns[foo]-policy[deny-headers]-rule[1]]', path: '/headers' });
    expect(rbacDenialPolicy(denied.responseCodeDetails)).to.equal('ns[foo]-policy[deny-headers]-rule[1]');
    const events = parseEnvoyLog(read('authz-deny-before-allow', server)).events.filter((e) => e.kind.startsWith('rbac'));
    expect(events.map((e) => e.rbac)).to.deep.include.members([
      { peer: 'spiffe://cluster.local/ns/foo/sa/sleep', requestedServerName: 'outbound_.8000_._.httpbin.foo.svc.cluster.local', sourceIp: '172.17.0.13:44438' },
      { decision: 'denied', shadow: false, policy: 'ns[foo]-policy[deny-headers]-rule[1]' },
    ]);
    expect(read('authz-deny-before-allow', 'client.txt')).to.match(/^RBAC: access denied$/m);
  });

  it('why-403: plaintext to a PERMISSIVE port meets an ALLOW-principals policy: [none], and the rbac filter saw ssl: none', () => {
    const server = 'foo.httpbin-94fdb8c79-h9zrq.istio-proxy.log';
    const [denied] = access('authz-principals-plaintext', server);
    expect(denied).to.include({ responseCode: 403, responseCodeDetails: 'rbac_access_denied_matched_policy[none]', upstreamCluster: 'inbound|8080||' });
    expect(denied.requestedServerName).to.equal(undefined);
    const [check, decision] = parseEnvoyLog(read('authz-principals-plaintext', server)).events.filter((e) => e.kind.startsWith('rbac'));
    expect(check.rbac).to.deep.equal({ peer: null, requestedServerName: '', sourceIp: '172.17.0.13:49524' });
    expect(decision.rbac).to.deep.equal({ decision: 'denied', shadow: false, policy: 'none' });
    // The twins: the ALLOW policy matches the mTLS identity, 200.
    expect(access('authz-principals-plaintext-healthy', server).map((e) => e.responseCode)).to.deep.equal([200]);
    expect(access('authz-deny-before-allow-healthy', server).map((e) => e.responseCode)).to.deep.equal([200]);
  });

  it('why-mtls-fails: each broken handshake as the client logged it, decoded to the verification error and its detail; the server saw the alert', () => {
    const client = 'foo.sleep-5b597748b4-77kj5.istio-proxy.log';
    const server = 'foo.httpbin-94fdb8c79-h9zrq.istio-proxy.log';
    const cases: Array<[string, RegExp, string]> = [
      ['mtls-wrong-service-account', /SAN matcher, certificate SANs are \[spiffe:\/\/cluster\.local\/ns\/foo\/sa\/other\]/, 'SSLV3_ALERT_CERTIFICATE_UNKNOWN'],
      ['mtls-foreign-trust-domain', /SAN matcher, certificate SANs are \[spiffe:\/\/east\.example\/ns\/foo\/sa\/httpbin\]/, 'SSLV3_ALERT_CERTIFICATE_UNKNOWN'],
      ['mtls-second-root', /unable to get local issuer certificate/, 'TLSV1_ALERT_UNKNOWN_CA'],
      ['mtls-expired-certificate', /certificate has expired/, 'SSLV3_ALERT_CERTIFICATE_EXPIRED'],
      ['mtls-dr-wrong-san', /SAN matcher, certificate SANs are \[spiffe:\/\/cluster\.local\/ns\/foo\/sa\/httpbin\]/, 'SSLV3_ALERT_CERTIFICATE_UNKNOWN'],
    ];
    for (const [scenario, detail, alert] of cases) {
      const [line] = access(scenario, client);
      expect(line.responseCode, scenario).to.equal(503);
      const failure = decodeTransportFailureReason(line.upstreamTransportFailureReason ?? decodeResponseCodeDetails(line.responseCodeDetails!)!.transportFailure!.raw)!;
      expect(failure.sslErrors.map((e) => e.name), scenario).to.include('CERTIFICATE_VERIFY_FAILED');
      expect(failure.sslErrors.map((e) => e.detail ?? '').join(' '), scenario).to.match(detail);
      const serverSaw = parseEnvoyLog(read(scenario, server)).events.filter((e) => e.kind === 'tls-error').map((e) => e.sslErrorName);
      expect(serverSaw, scenario).to.include(alert);
    }
    // Double TLS: the client sidecar's own TLS meets a PERMISSIVE inbound with no chain for it.
    expect(access('mtls-double-tls', server).map((e) => `${e.responseCode} ${e.responseFlags.join(',')} ${e.responseCodeDetails}`)).to.include('0 NR filter_chain_not_found');
    expect(access('mtls-double-tls', client)[0]).to.include({ responseCode: 503 });
    expect(access('mtls-double-tls', client)[0].responseFlags).to.deep.equal(['URX', 'UF']);
  });

  it('a multi-line debug message (router decoding headers) is one event with its headers and its thread', () => {
    const events = parseEnvoyLog(read('seed004-dr-tls-disable', 'foo.sleep-5b597748b4-77kj5.istio-proxy.log')).events;
    const decoding = events.find((e) => e.message.startsWith('router decoding headers:'))!;
    expect(decoding.message).to.contain("':authority', 'httpbin:8000'");
    expect(decoding.thread).to.match(/^\d+$/);
    expect(decoding.connectionId).to.equal('2');
  });

  it('seed 004: the client logs 503 UC connection_termination; the server logs NR filter_chain_not_found and no TLS error', () => {
    const [client] = access('seed004-dr-tls-disable', 'foo.sleep-5b597748b4-77kj5.istio-proxy.log');
    expect(client).to.include({ responseCode: 503, responseCodeDetails: 'upstream_reset_before_response_started{connection_termination}', upstreamCluster: 'outbound|8000||httpbin.foo.svc.cluster.local' });
    expect(client.responseFlags).to.deep.equal(['UC']);
    const serverLog = read('seed004-dr-tls-disable', 'foo.httpbin-94fdb8c79-h9zrq.istio-proxy.log');
    const [server] = parseAccessLog(serverLog).entries;
    expect(server).to.include({ tcp: true, responseCode: 0, responseCodeDetails: 'filter_chain_not_found' });
    expect(server.responseFlags).to.deep.equal(['NR']);
    const events = parseEnvoyLog(serverLog).events;
    expect(events.some((e) => /no matching filter chain found/.test(e.message))).to.equal(true);
    expect(events.filter((e) => e.kind === 'handshake-error')).to.deep.equal([]);
  });

  it('seed 003: the catch-all\'s tcp_proxy line has no response flag and names the wrong cluster', () => {
    const [line] = access('seed003-se-no-addresses-tcp', 'istio-demo.sample-c59f744df-8kq7m.istio-proxy.log');
    expect(line).to.include({ tcp: true, upstreamCluster: 'outbound|443||traefik.cutom-name', upstreamHost: '10.244.2.50:443', downstreamLocalAddress: '203.0.113.20:443' });
    expect(line.responseFlags).to.deep.equal([]);
    const [twin] = access('seed003-se-no-addresses-tcp-healthy', 'istio-demo.sample-c59f744df-8kq7m.istio-proxy.log');
    expect(twin.upstreamCluster).to.equal('PassthroughCluster');
  });

  it('seed 002: REGISTRY_ONLY answers 502 direct_response from the route block_all', () => {
    const [line] = access('seed002-registry-only-unregistered', 'default.ubuntu-deployment-54bbd6f4ff-q9sdj.istio-proxy.log');
    expect(line).to.include({ responseCode: 502, responseCodeDetails: 'direct_response', routeName: 'block_all', authority: 'httpbin.org' });
    expect(line.responseFlags).to.deep.equal([]);
  });

  it('seed 001: an app on 127.0.0.1 behind the ORIGINAL_DST inbound cluster gives 503 URX,UF connection refused', () => {
    const [line] = access('seed001-app-on-localhost', 'default.app-5f7b9c6d8-q7w2e.istio-proxy.log');
    expect(line).to.include({ responseCode: 503, upstreamCluster: 'inbound|8080||', direction: 'inbound' });
    expect(line.responseFlags).to.have.members(['URX', 'UF']);
    expect(line.responseCodeDetails).to.equal('upstream_reset_before_response_started{remote_connection_failure|delayed_connect_error:_Connection_refused}');
  });

  it('seed 000: TLS into the pre-1.8 HTTP chain on 443 is a 400 DPE http1.codec_error; the current shape passes it through', () => {
    const [line] = access('seed000-http-on-443-pre-1.8', 'team-b.web-6d4cf56db6-x2pnq.istio-proxy.log');
    expect(line).to.include({ responseCode: 400, responseCodeDetails: 'http1.codec_error' });
    expect(line.responseFlags).to.deep.equal(['DPE']);
    expect(read('seed000-http-on-443-pre-1.8', 'client.txt')).to.match(/curl: \(35\) .*wrong version number/);
    const [twin] = access('seed000-http-on-443-current', 'team-b.web-6d4cf56db6-x2pnq.istio-proxy.log');
    expect(twin.upstreamCluster).to.equal('PassthroughCluster');
  });

  it('explain reads each recorded access-log line as one item, in order, with a meaning', () => {
    const text = access('seed004-dr-tls-disable', 'foo.sleep-5b597748b4-77kj5.istio-proxy.log')[0].raw;
    const result = explain(text);
    expect(result.items.length).to.be.greaterThan(0);
    expect(JSON.stringify(result.items[0])).to.match(/UC/);
  });
});
