import { expect } from 'chai';
import fc from 'fast-check';
import { parseAccessLogLine, parseAccessLog } from '../../../src/model/logs/access-log.js';
import { anyLine, onlyParseError, RUNS } from './property.js';
import * as F from './fixtures.js';

describe('parseAccessLogLine', () => {
  it('reads seed 004 (Envoy default layout, no details fields)', () => {
    const e = parseAccessLogLine(F.SEED_004_ACCESS)!;
    expect(e).to.deep.include({
      format: 'istio-text-legacy',
      startTime: '2018-08-28T13:06:56.454Z',
      method: 'GET',
      path: '/get',
      protocol: 'HTTP/1.1',
      responseCode: 503,
      responseFlags: ['UC'],
      bytesReceived: 0,
      bytesSent: 57,
      duration: 0,
      upstreamServiceTime: undefined,
      xff: undefined,
      userAgent: 'curl/7.35.0',
      requestId: '19095d07-320a-9be0-8ba5-e0d08cf58f52',
      authority: 'httpbin:8000',
      upstreamHost: '172.17.0.14:8000',
      tcp: false,
      extra: [],
    });
    expect(e.responseCodeDetails).to.equal(undefined);
  });

  it('reads seed 004 without its timestamp, as the reference quotes it', () => {
    const e = parseAccessLogLine(F.SEED_004_ACCESS.replace(/^\[[^\]]*\] /, ''))!;
    expect(e).to.include({ format: 'istio-text-legacy', responseCode: 503, authority: 'httpbin:8000' });
  });

  it('reads an Istio >= 1.9 line with every field (public tutorial line)', () => {
    const e = parseAccessLogLine(F.PUBLIC_WRONG_VERSION)!;
    expect(e).to.deep.include({
      format: 'istio-text',
      responseCode: 503,
      responseFlags: ['URX', 'UF'],
      connectionTerminationDetails: undefined,
      upstreamTransportFailureReason: 'TLS_error:|268435703:SSL_routines:OPENSSL_internal:WRONG_VERSION_NUMBER:TLS_error_end',
      bytesReceived: 0,
      bytesSent: 121,
      duration: 798,
      authority: 'httpbin.org',
      upstreamHost: '32.194.118.12:80',
      upstreamCluster: 'outbound|80||httpbin.org',
      upstreamLocalAddress: undefined,
      downstreamLocalAddress: '54.159.186.149:80',
      downstreamRemoteAddress: '10.244.0.6:55130',
      requestedServerName: undefined,
      routeName: 'default',
      direction: 'outbound',
      extra: [],
    });
    expect(e.responseCodeDetails).to.match(/^upstream_reset_before_response_started\{remote_connection_failure\|TLS_error/);
  });

  it('keeps user-appended fields', () => {
    const e = parseAccessLogLine(`${F.PUBLIC_WRONG_VERSION} "team-a" 42`)!;
    expect(e.extra).to.deep.equal(['"team-a"', '42']);
    expect(e.routeName).to.equal('default');
  });

  it('reads a TCP entry (constructed from the 1.9 format, the #27903 case)', () => {
    const e = parseAccessLogLine(F.CONSTRUCTED_TCP_NR)!;
    expect(e).to.deep.include({
      format: 'istio-text',
      tcp: true,
      responseCode: 0,
      responseFlags: ['NR'],
      responseCodeDetails: 'filter_chain_not_found',
      downstreamLocalAddress: '10.244.1.7:8080',
      downstreamRemoteAddress: '10.244.2.9:51234',
      upstreamCluster: undefined,
    });
    expect(e.method).to.equal(undefined);
  });

  it('reads the reference TCP excerpt ("- - -" 0 NR filter_chain_not_found ...)', () => {
    const e = parseAccessLogLine(F.REF_NR_FILTER_CHAIN)!;
    expect(e).to.include({ tcp: true, responseCode: 0, responseCodeDetails: 'filter_chain_not_found' });
    expect(e.responseFlags).to.deep.equal(['NR']);
  });

  it('reads Istio 1.3-1.8 layout (mixer status and transport reason after the flags)', () => {
    const e = parseAccessLogLine(F.CONSTRUCTED_ISTIO_18)!;
    expect(e).to.deep.include({
      format: 'istio-text-legacy',
      responseFlags: ['UF', 'URX'],
      policyStatus: undefined,
      upstreamTransportFailureReason: 'TLS error: 268435581:SSL routines:OPENSSL_internal:CERTIFICATE_VERIFY_FAILED',
      bytesSent: 91,
      upstreamCluster: 'outbound|8000||httpbin.foo.svc.cluster.local',
      routeName: 'default',
    });
  });

  it('reads the reference localhost excerpt as a fragment', () => {
    const e = parseAccessLogLine(F.REF_LOCALHOST_110)!;
    expect(e).to.deep.include({
      format: 'unknown',
      responseCode: 503,
      responseFlags: ['UF'],
      responseCodeDetails: 'upstream_reset_before_response_started{remote_connection_failure,delayed_connect_error:_111}',
      connectionTerminationDetails: undefined,
      upstreamTransportFailureReason: 'delayed_connect_error:_111',
      upstreamCluster: 'inbound|8080||',
      direction: 'inbound',
    });
  });

  it('reads the reference REGISTRY_ONLY excerpt and the full constructed line', () => {
    expect(parseAccessLogLine(F.REF_BLOCK_ALL)).to.deep.include({
      format: 'unknown',
      responseCode: 502,
      responseFlags: [],
      responseCodeDetails: 'direct_response',
      routeName: 'block_all',
    });
    expect(parseAccessLogLine(F.CONSTRUCTED_BLOCK_ALL)).to.deep.include({
      format: 'istio-text',
      responseCode: 502,
      responseCodeDetails: 'direct_response',
      upstreamCluster: undefined,
      routeName: 'block_all',
    });
  });

  it('reads a two-token excerpt only when a flag is set', () => {
    expect(parseAccessLogLine('503 UF')).to.deep.include({ format: 'unknown', responseCode: 503, responseFlags: ['UF'] });
    expect(parseAccessLogLine('the proxy said 503 UH on BlackHoleCluster')).to.deep.include({ responseFlags: ['UH'], upstreamCluster: 'BlackHoleCluster' });
    expect(parseAccessLogLine('200 -')).to.equal(undefined);
    expect(parseAccessLogLine('503 XX')).to.equal(undefined);
  });

  it('reads JSON lines, numbers or strings, null as absent, unknown keys kept', () => {
    const e = parseAccessLogLine(F.CONSTRUCTED_JSON_ACCESS)!;
    expect(e).to.deep.include({
      format: 'json',
      responseCode: 503,
      responseFlags: ['UF'],
      upstreamTransportFailureReason: 'delayed_connect_error:_111',
      connectionTerminationDetails: undefined,
      upstreamCluster: 'inbound|8080||',
      upstreamLocalAddress: '127.0.0.6:40123',
      direction: 'inbound',
      extra: ['team=payments'],
    });
    const s = parseAccessLogLine('{"response_code":"200","response_flags":"-","method":"GET","duration":"3"}')!;
    expect(s).to.include({ responseCode: 200, duration: 3 });
    expect(s.responseFlags).to.deep.equal([]);
  });

  it('strips kubectl --timestamps prefixes', () => {
    expect(parseAccessLogLine(`2018-08-28T13:06:56.454123456Z ${F.SEED_004_ACCESS}`)).to.include({ responseCode: 503 });
  });

  const notAccessLog = [
    '',
    '   ',
    ...F.SEED_004_ENVOY_LINES,
    F.PUBLIC_ISTIO_NEW_CONNECTION,
    F.PUBLIC_ENVOY_UNKNOWN_CA,
    F.CONSTRUCTED_JSON_ENVOY,
    '2024-01-01T00:00:00.000000Z\tinfo\tsds\tSDS: PUSH request for node',
    '{"level":"info","msg":"hello"}',
    '{"response_code": 200',
    '[2018-08-28T13:06:56.454Z] "GET /get HTTP/1.1" abc UC',
    '"hello world" 200 - -',
    '200 - -',
    'upstream connect error or disconnect/reset before headers',
    'UF,URX',
  ];
  for (const line of notAccessLog)
    it(`says ${JSON.stringify(line.slice(0, 50))} is not an access-log line`, () => expect(parseAccessLogLine(line)).to.equal(undefined));
});

describe('parseAccessLog', () => {
  it('picks access-log lines out of a mixed container log', () => {
    const text = [F.SEED_004_ENVOY_LINES[0], F.SEED_004_ACCESS, '', F.CONSTRUCTED_JSON_ENVOY, F.PUBLIC_WRONG_VERSION].join('\n');
    const r = parseAccessLog(text);
    expect(r.entries.map((e) => e.lineNumber)).to.deep.equal([2, 5]);
    expect(r.otherLines).to.equal(3);
  });
});

describe('access-log parser never throws', () => {
  it('on arbitrary lines', () => {
    fc.assert(
      fc.property(anyLine, (s) => {
        onlyParseError(() => parseAccessLogLine(s));
        onlyParseError(() => parseAccessLog(s));
      }),
      RUNS,
    );
  });
  it('on arbitrary JSON objects', () => {
    fc.assert(fc.property(fc.json(), (s) => onlyParseError(() => parseAccessLogLine(s))), RUNS);
  });
});
