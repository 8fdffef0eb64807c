import { expect } from 'chai';
import fc from 'fast-check';
import { parseEnvoyLogLine, parseEnvoyLog, eventsForConnection } from '../../../src/model/logs/envoy-log.js';
import { anyLine, onlyParseError, RUNS } from './property.js';
import * as F from './fixtures.js';

describe('parseEnvoyLogLine', () => {
  describe('seed 004 (old Envoy, time and thread cut by the author)', () => {
    const events = F.SEED_004_ENVOY_LINES.map((l) => parseEnvoyLogLine(l)!);

    it('reads every line as the envoy layout with level, logger and source', () => {
      for (const ev of events) expect(ev.layout).to.equal('envoy');
      expect(events[0]).to.include({ level: 'debug', logger: 'filter', source: 'external/envoy/source/extensions/filters/listener/original_dst/original_dst.cc:18' });
      expect(events[1]).to.include({ logger: 'main', connectionId: '31', kind: 'new-connection', remoteAddress: undefined });
    });

    it('recognises the handshake errors, the SSL error and the close', () => {
      expect(events.map((e) => e.kind)).to.deep.equal([
        'other', 'new-connection', 'other', 'other', 'handshake-error', 'other', 'other', 'handshake-error', 'tls-error', 'closing-socket',
      ]);
      expect(events[4].handshakeError).to.equal(2);
      expect(events[7].handshakeError).to.equal(1);
      expect(events[8]).to.include({ connectionId: '31', sslErrorCode: 268435612, sslErrorName: 'HTTP_REQUEST', tlsErrorFormat: 'old' });
      expect(events[9]).to.include({ closeType: 0 });
    });

    it('follows connection C31', () => {
      expect(eventsForConnection(events, '31')).to.have.length(9);
    });
  });

  it('reads the full old Envoy layout with time and thread', () => {
    const ev = parseEnvoyLogLine(`[2018-08-28 13:06:56.454][26]${F.SEED_004_ENVOY_LINES[8]}`)!;
    expect(ev).to.include({ layout: 'envoy', time: '2018-08-28 13:06:56.454', thread: '26', logger: 'connection', sslErrorName: 'HTTP_REQUEST' });
  });

  it('reads the plain Envoy layout with Tags and a TLS alert (public)', () => {
    const ev = parseEnvoyLogLine(F.PUBLIC_ENVOY_UNKNOWN_CA)!;
    expect(ev).to.include({
      layout: 'envoy',
      time: '2025-03-05 07:22:38.631',
      thread: '15',
      level: 'debug',
      logger: 'connection',
      source: 'source/common/tls/ssl_socket.cc:251',
      connectionId: '1',
      kind: 'tls-error',
      remoteAddress: '172.20.0.4:443',
      sslErrorCode: 268436504,
      sslErrorName: 'TLSV1_ALERT_UNKNOWN_CA',
      tlsErrorFormat: 'new',
    });
  });

  it('reads the Istio layout pasted with spaces instead of tabs (public)', () => {
    const ev = parseEnvoyLogLine(F.PUBLIC_ISTIO_NEW_CONNECTION)!;
    expect(ev).to.include({
      layout: 'istio',
      time: '2024-04-24T01:32:42.812279Z',
      level: 'debug',
      logger: 'conn_handler',
      connectionId: '840',
      kind: 'new-connection',
      remoteAddress: '10.244.0.1:3032',
      thread: '30',
    });
    expect(parseEnvoyLogLine(F.PUBLIC_ISTIO_ADMIN)).to.include({ layout: 'istio', logger: 'misc', kind: 'other', thread: '25' });
    expect(parseEnvoyLogLine(F.PUBLIC_ENVOY_POOL)).to.include({ logger: 'pool', connectionId: '2', kind: 'other' });
  });

  it('reads the Istio layout with tabs: no filter chain, router reset with stream id', () => {
    expect(parseEnvoyLogLine(F.CONSTRUCTED_ISTIO_NO_CHAIN)).to.include({
      layout: 'istio',
      kind: 'no-filter-chain',
      remoteAddress: '10.244.0.9:51234',
      thread: '21',
    });
    expect(parseEnvoyLogLine(F.CONSTRUCTED_ROUTER_RESET)).to.include({
      kind: 'upstream-reset',
      connectionId: '5',
      streamId: '123456',
      resetReason: 'remote connection failure',
      transportFailureReason: 'delayed connect error: 111',
    });
  });

  it('reads the older Istio layout (no file:line) with the old TLS error text', () => {
    expect(parseEnvoyLogLine(F.CONSTRUCTED_ISTIO_LEGACY)).to.include({
      layout: 'istio-legacy',
      logger: 'connection',
      connectionId: '12',
      remoteAddress: '10.0.0.5:443',
      sslErrorName: 'PEER_DID_NOT_RETURN_A_CERTIFICATE',
      tlsErrorFormat: 'old',
    });
  });

  it('reads Istio JSON logs', () => {
    expect(parseEnvoyLogLine(F.CONSTRUCTED_JSON_ENVOY)).to.include({
      layout: 'istio-json',
      level: 'debug',
      logger: 'connection',
      thread: '24',
      connectionId: '77',
      sslErrorName: 'HTTP_REQUEST',
      tlsErrorFormat: 'new',
    });
  });

  it('reads bare messages only when they are known events (reference TLS lines)', () => {
    expect(parseEnvoyLogLine(F.REF_TLS_OLD)).to.include({ layout: 'bare', kind: 'tls-error', sslErrorName: 'CERTIFICATE_VERIFY_FAILED', tlsErrorFormat: 'old' });
    const ev = parseEnvoyLogLine(F.REF_TLS_NEW)!;
    expect(ev).to.include({ layout: 'bare', remoteAddress: '10.0.0.5:443', tlsErrorFormat: 'new' });
    expect(ev.sslErrors[0].detail).to.equal('verify cert failed: verify SAN list');
    expect(parseEnvoyLogLine('closing connection: no matching filter chain found')).to.include({ kind: 'no-filter-chain', remoteAddress: undefined });
    expect(parseEnvoyLogLine('[C7] closing socket: 1')).to.include({ kind: 'closing-socket', closeType: 1, connectionId: '7' });
  });

  const notEnvoy = [
    '',
    F.SEED_004_ACCESS,
    F.PUBLIC_WRONG_VERSION,
    F.CONSTRUCTED_JSON_ACCESS,
    '2024-01-01T00:00:00.000000Z\tinfo\tsds\tSDS: PUSH request for node',
    'hello world',
    '[C31]',
    '{"scope":"default","msg":"x"}',
    'socket event: 2',
  ];
  for (const line of notEnvoy)
    it(`says ${JSON.stringify(line.slice(0, 50))} is not an Envoy log line`, () => expect(parseEnvoyLogLine(line)).to.equal(undefined));
});

describe('parseEnvoyLog', () => {
  it('keeps Envoy events of a mixed log with line numbers', () => {
    const r = parseEnvoyLog([F.SEED_004_ACCESS, ...F.SEED_004_ENVOY_LINES].join('\n'));
    expect(r.events).to.have.length(10);
    expect(r.events[0].lineNumber).to.equal(2);
    expect(r.otherLines).to.equal(1);
  });
});

describe('Envoy log parser never throws', () => {
  it('on arbitrary lines', () => {
    fc.assert(
      fc.property(anyLine, (s) => {
        onlyParseError(() => parseEnvoyLogLine(s));
        onlyParseError(() => parseEnvoyLog(s));
      }),
      RUNS,
    );
  });
  it('is fast on long lines of whitespace', () => {
    const start = Date.now();
    parseEnvoyLogLine(`2024-01-01T00:00:00Z debug envoy x ${' \t'.repeat(30000)}y`);
    expect(Date.now() - start).to.be.below(1000);
  });
});
