import { expect } from 'chai';
import fc from 'fast-check';
import { explain, explainLine, type ExplanationItem } from '../../src/explain/explain.js';
import { anyLine, onlyParseError, RUNS } from '../model/logs/property.js';
import * as F from '../model/logs/fixtures.js';

interface Case {
  name: string;
  input: string;
  kind: ExplanationItem['kind'];
  title: RegExp;
  next: string[];
  inMesh: RegExp;
}

// The examples the brief lists, each with where it comes from.
const CASES: Case[] = [
  { name: 'flag UC (seed 004)', input: 'UC', kind: 'response-flags', title: /UC/, next: ['why-503'], inMesh: /plaintext reaching a server that requires mTLS/ },
  { name: 'flags UF,URX', input: 'UF,URX', kind: 'response-flags', title: /UF,URX/, next: ['why-503'], inMesh: /could not connect/ },
  { name: 'BoringSSL 268435612 (seed 004)', input: '268435612', kind: 'ssl-error', title: /268435612 HTTP_REQUEST/, next: ['why-503'], inMesh: /requires mTLS .* client sent plaintext/ },
  { name: 'HTTP_REQUEST by name', input: 'HTTP_REQUEST', kind: 'ssl-error', title: /268435612 HTTP_REQUEST/, next: ['why-503'], inMesh: /plaintext/ },
  { name: 'CERTIFICATE_VERIFY_FAILED by name', input: 'CERTIFICATE_VERIFY_FAILED', kind: 'ssl-error', title: /268435581/, next: ['why-https-fails'], inMesh: /does not trust/ },
  { name: 'details filter_chain_not_found', input: 'filter_chain_not_found', kind: 'response-code-details', title: /filter_chain_not_found/, next: ['why-inbound-fails'], inMesh: /mTLS\/plaintext mismatch/ },
  { name: 'details connection_termination', input: 'upstream_reset_before_response_started{connection_termination}', kind: 'response-code-details', title: /upstream_reset_before_response_started/, next: ['why-503'], inMesh: /response headers|never got/ },
  { name: 'transport reason delayed_connect_error:_111', input: '"delayed_connect_error:_111"', kind: 'transport-failure', title: /TCP connect/, next: ['why-inbound-fails'], inMesh: /127\.0\.0\.1/ },
  { name: 'seed 004 access-log line', input: F.SEED_004_ACCESS, kind: 'access-log', title: /GET \/get -> 503 UC/, next: ['why-503'], inMesh: /plaintext reaching a server that requires mTLS/ },
  { name: 'reference 1.10 localhost line (#51267)', input: F.REF_LOCALHOST_110, kind: 'access-log', title: /503 UF/, next: ['why-inbound-fails', ''], inMesh: /Istio 1\.10 .*localhost/ },
  { name: 'reference TCP NR filter_chain_not_found (#27903)', input: F.REF_NR_FILTER_CHAIN, kind: 'access-log', title: /TCP connection -> 0 NR filter_chain_not_found/, next: ['why-inbound-fails', ''], inMesh: /mTLS mismatch/ },
  { name: 'reference REGISTRY_ONLY 502 direct_response block_all', input: F.REF_BLOCK_ALL, kind: 'access-log', title: /502 - direct_response/, next: ['why-502', ''], inMesh: /REGISTRY_ONLY/ },
  { name: 'full REGISTRY_ONLY line', input: F.CONSTRUCTED_BLOCK_ALL, kind: 'access-log', title: /GET \/ip -> 502/, next: ['why-502', ''], inMesh: /block_all route/ },
  { name: 'public WRONG_VERSION_NUMBER line', input: F.PUBLIC_WRONG_VERSION, kind: 'access-log', title: /503 URX,UF/, next: ['why-https-fails'], inMesh: /not speaking TLS|plaintext/ },
  { name: 'BlackHoleCluster UH', input: '[2021-03-01T10:00:00.000Z] "- - -" 0 UH - - "-" 0 0 0 - "-" "-" "-" "-" "-" BlackHoleCluster - 142.250.1.1:443 10.244.0.8:40000 www.google.com -', kind: 'access-log', title: /UH/, next: ['why-https-fails'], inMesh: /BlackHoleCluster/ },
  { name: 'seed 000 curl exit 35 unknown protocol (incident 1)', input: F.SEED_000_CURL, kind: 'curl', title: /curl error \(35\) unknown protocol/, next: ['why-https-fails', 'who-owns-443', ''], inMesh: /port \(443\) with an HTTP-family name/ },
  { name: 'seed 003 certificate subject mismatch (incident 4)', input: F.SEED_003_MISMATCH, kind: 'curl', title: /certificate name mismatch/, next: ['who-owns-443', 'why-https-fails', ''], inMesh: /ServiceEntry without spec\.addresses/ },
  { name: 'seed 002 one-line transcript (incident 3)', input: F.SEED_002_CURL_ONE_LINE, kind: 'curl', title: /HTTP 502 from envoy/, next: ['why-502'], inMesh: /REGISTRY_ONLY/ },
  { name: 'seed 004 SSL error line (old TLS log)', input: F.SEED_004_ENVOY_LINES[8], kind: 'envoy-log', title: /TLS error: HTTP_REQUEST/, next: ['why-503'], inMesh: /plaintext/ },
  { name: 'reference old TLS log line', input: F.REF_TLS_OLD, kind: 'envoy-log', title: /CERTIFICATE_VERIFY_FAILED/, next: ['why-https-fails'], inMesh: /does not trust/ },
  { name: 'reference new TLS log line', input: F.REF_TLS_NEW, kind: 'envoy-log', title: /CERTIFICATE_VERIFY_FAILED/, next: ['why-https-fails'], inMesh: /SAN/ },
  { name: 'public TLS alert unknown CA', input: F.PUBLIC_ENVOY_UNKNOWN_CA, kind: 'envoy-log', title: /TLSV1_ALERT_UNKNOWN_CA/, next: ['why-https-fails'], inMesh: /roots of trust/ },
  { name: 'no matching filter chain log line', input: F.CONSTRUCTED_ISTIO_NO_CHAIN, kind: 'envoy-log', title: /no matching filter chain/, next: ['why-inbound-fails'], inMesh: /mTLS\/plaintext mismatch/ },
  { name: 'body: upstream connect error (seed 004)', input: 'upstream connect error or disconnect/reset before headers', kind: 'envoy-body', title: /upstream connect error/, next: ['why-503'], inMesh: /plaintext to an mTLS-only server gives UC/ },
  { name: 'body with TLS reason (reference)', input: F.REF_BODY_TLS, kind: 'envoy-body', title: /upstream connect error/, next: ['why-https-fails'], inMesh: /does not trust/ },
  { name: 'excerpt "503 UF" (status and flag only)', input: '503 UF', kind: 'access-log', title: /503 UF/, next: ['why-503'], inMesh: /could not connect/ },
  { name: 'bare "new connection from"', input: 'new connection from 10.0.0.1:1234', kind: 'envoy-log', title: /accepted a connection/, next: [], inMesh: /reached this sidecar/ },
  { name: 'bare "handshake error: 1" (seed 004)', input: 'handshake error: 1', kind: 'envoy-log', title: /handshake error 1/, next: [], inMesh: /failed/ },
  { name: 'OpenSSL 1.1 string without curl prefix', input: 'error:1408F10B:SSL routines:ssl3_get_record:wrong version number', kind: 'curl', title: /OpenSSL error: wrong version number/, next: ['why-https-fails', 'who-owns-443', ''], inMesh: /not TLS/ },
  { name: 'curl exit 56 connection reset', input: 'curl: (56) Recv failure: Connection reset by peer', kind: 'curl', title: /curl error \(56\)/, next: ['why-https-fails'], inMesh: /BlackHoleCluster/ },
  { name: 'reference code 268436501 (CERTIFICATE_EXPIRED in the reference)', input: '268436501', kind: 'ssl-error', title: /SSLV3_ALERT_CERTIFICATE_EXPIRED/, next: ['why-https-fails'], inMesh: /expired/ },
  { name: 'body: no healthy upstream', input: 'no healthy upstream', kind: 'envoy-body', title: /no healthy upstream/, next: ['why-503'], inMesh: /outlier detection/ },
];

describe('explain: the examples that must explain well', () => {
  for (const c of CASES)
    it(c.name, () => {
      const r = explain(c.input);
      expect(r.unrecognised, 'unrecognised').to.deep.equal([]);
      expect(r.items).to.have.length(1);
      const item = r.items[0];
      expect(item.kind).to.equal(c.kind);
      expect(item.title).to.match(c.title);
      expect(item.next.map((n) => n.diagnosis ?? '')).to.deep.equal(c.next);
      expect(item.inMesh).to.match(c.inMesh);
      expect(item.meaning).to.be.a('string').and.not.equal('');
      for (const n of item.next) expect(n.why).to.be.a('string').and.not.equal('');
    });
});

describe('explain: fields', () => {
  it('lists the decoded BoringSSL parts', () => {
    const [item] = explain('268435612').items;
    const f = Object.fromEntries(item.fields.map((x) => [x.name, x.value]));
    expect(f).to.include({ code: '268435612', library: '16 (ERR_LIB_SSL)', reason: '156', name: 'HTTP_REQUEST' });
  });

  it('lists the access-log fields and the transport reason', () => {
    const [item] = explain(F.PUBLIC_WRONG_VERSION).items;
    const names = item.fields.map((x) => x.name);
    expect(names).to.include.members(['response code', 'response flags', 'response code details', 'upstream transport failure reason', 'upstream cluster']);
    expect(item.fields.find((x) => x.name === 'upstream cluster')?.meaning).to.match(/client-side/);
  });

  it('one field per flag, with the long name', () => {
    const [item] = explain('UF,URX').items;
    expect(item.fields.map((x) => [x.name, x.value])).to.deep.equal([
      ['UF', 'UpstreamConnectionFailure'],
      ['URX', 'UpstreamRetryLimitExceeded'],
    ]);
    expect(item.meaning).to.match(/Every attempt failed with UF/);
  });

  it('curl: subject, status, server header and envoy body', () => {
    const [item] = explain(F.SEED_004_CURL_V).items;
    const f = Object.fromEntries(item.fields.map((x) => [x.name, x.value]));
    expect(f).to.include({ 'HTTP status': '503 Service Unavailable', 'server header': 'envoy', 'envoy body': 'upstream connect error or disconnect/reset before headers' });
    expect(item.inMesh).to.match(/plaintext reaching a server that requires mTLS/);
  });
});

describe('explain: several lines', () => {
  it('explains the events of the seed 004 server log and counts the other lines', () => {
    const r = explain(F.SEED_004_ENVOY_LINES.join('\n'));
    expect(r.unrecognised).to.deep.equal([]);
    expect(r.uneventful).to.equal(5); // original_dst, socket event x2, write ready x2
    expect(r.items.map((i) => i.title)).to.deep.equal([
      'Envoy accepted a connection',
      'Envoy TLS handshake error 2',
      'Envoy TLS handshake error 1',
      'Envoy TLS error: HTTP_REQUEST',
      'Envoy closing socket',
    ]);
    expect(r.items[1].inMesh).to.match(/Benign/);
    expect(r.items[2].inMesh).to.match(/following "SSL error"/);
  });

  it('itemises an uneventful line when it is the only one', () => {
    expect(explain(F.SEED_004_ENVOY_LINES[2]).items).to.have.length(1);
    expect(explain(F.PUBLIC_ISTIO_ADMIN).items[0].inMesh).to.match(/no event/);
  });

  it('leaves healthy access-log entries out of a container log', () => {
    const ok = '[2021-03-01T10:00:00.000Z] "GET /ok HTTP/1.1" 200 - via_upstream - "-" 0 10 2 1 "-" "curl" "id" "app:80" "10.0.0.1:80" outbound|80||app - 10.96.0.1:80 10.0.0.2:5000 - default';
    const r = explain([ok, ok, F.PUBLIC_WRONG_VERSION].join('\n'));
    expect(r.uneventful).to.equal(2);
    expect(r.items).to.have.length(1);
    expect(explain(ok).items[0].inMesh).to.match(/upstream itself answered 200|Nothing abnormal/);
  });

  it('mixes access logs, envoy logs and values, and reports what it cannot read', () => {
    const r = explain([F.SEED_004_ACCESS, '', 'hello world', 'UO', F.REF_TLS_NEW, '   '].join('\n'));
    expect(r.items.map((i) => i.kind)).to.deep.equal(['access-log', 'response-flags', 'envoy-log']);
    expect(r.unrecognised).to.deep.equal(['hello world']);
  });

  it('takes a curl transcript as one block, body included', () => {
    const r = explain(F.SEED_004_CURL_V);
    expect(r.items).to.have.length(1);
    expect(r.items[0].kind).to.equal('curl');
    expect(r.unrecognised).to.deep.equal([]);
  });

  it('seed 003 -vvv with a traefik certificate', () => {
    const r = explain(F.SEED_003_TRAEFIK);
    expect(r.items[0].kind).to.equal('curl');
    expect(r.items[0].fields.find((f) => f.name === 'certificate subject')?.value).to.equal('...=traefik...');
  });
});

describe('explain: bad inputs', () => {
  for (const bad of ['', '   ', 'hello', '12345', '999999999999', 'ZZ,YY', 'http_request_please', '{"a":1}'])
    it(`recognises nothing in ${JSON.stringify(bad)}`, () => {
      const r = explain(bad);
      expect(r.items).to.deep.equal([]);
      expect(r.uneventful).to.equal(0);
      expect(r.unrecognised).to.deep.equal(bad.trim() ? [bad.trim()] : []);
    });
  it('explainLine returns undefined for non-strings and junk', () => {
    expect(explainLine(undefined as unknown as string)).to.equal(undefined);
    expect(explainLine('nothing to see')).to.equal(undefined);
  });
});

describe('explain never throws', () => {
  it('on arbitrary lines', () => {
    fc.assert(fc.property(anyLine, (s) => onlyParseError(() => explain(s))), RUNS);
  });
  it('on arbitrary multi-line pastes', () => {
    fc.assert(fc.property(fc.array(anyLine, { maxLength: 10 }), (a) => onlyParseError(() => explain(a.join('\n')))), RUNS);
  });
  it('returns only well-formed items', () => {
    fc.assert(
      fc.property(fc.array(anyLine, { maxLength: 5 }), (a) => {
        const r = explain(a.join('\n'));
        for (const i of r.items) {
          expect(i.title).to.be.a('string');
          expect(i.fields).to.be.an('array');
          expect(i.next).to.be.an('array');
        }
      }),
      { numRuns: 200 },
    );
  });
});
