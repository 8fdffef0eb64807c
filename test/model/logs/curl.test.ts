import { expect } from 'chai';
import fc from 'fast-check';
import { parseCurlOutput } from '../../../src/model/logs/curl.js';
import { anyLine, onlyParseError, RUNS } from './property.js';
import * as F from './fixtures.js';

describe('parseCurlOutput', () => {
  it('seed 000: exit 35, unknown protocol -> outbound 443 treated as HTTP (incident 1)', () => {
    const c = parseCurlOutput(F.SEED_000_CURL)!;
    expect(c).to.include({ exitCode: 35, exitName: 'CURLE_SSL_CONNECT_ERROR', transcript: false });
    expect(c.openSslError).to.include({ hex: '140770FC', reasonText: 'unknown protocol' });
    expect(c.inMesh).to.match(/HTTP connection manager/);
    expect(c.next.map((n) => n.diagnosis)).to.deep.equal(['why-https-fails', 'who-owns-443']);
  });

  it('seed 003: certificate subject mismatch -> catch-all 443 chain (incident 4)', () => {
    const c = parseCurlOutput(F.SEED_003_MISMATCH)!;
    expect(c.nameMismatch).to.deep.equal({ certificateName: '*.example.com', targetHost: 'baidu.com' });
    expect(c.inMesh).to.match(/ServiceEntry without spec\.addresses/);
    expect(c.next[0].diagnosis).to.equal('who-owns-443');
  });

  it('seed 003: -vvv shows the subject of the certificate that answered', () => {
    const c = parseCurlOutput(F.SEED_003_TRAEFIK)!;
    expect(c).to.include({ certificateSubject: '...=traefik...', transcript: true });
  });

  it('reads a curl -v subject, issuer and the newer mismatch wording', () => {
    const c = parseCurlOutput(
      [
        '* Server certificate:',
        '*  subject: CN=traefik-default-cert',
        '*  start date: Jan  1 00:00:00 2021 GMT',
        '*  issuer: CN=traefik-default-cert',
        "* SSL: no alternative certificate subject name matches target host name 'baidu.com'",
        'curl: (60) SSL: no alternative certificate subject name matches target host name \'baidu.com\'',
      ].join('\n'),
    )!;
    expect(c).to.include({ certificateSubject: 'CN=traefik-default-cert', certificateIssuer: 'CN=traefik-default-cert', exitCode: 60 });
    expect(c.nameMismatch).to.deep.equal({ targetHost: 'baidu.com' });
  });

  it('seed 004: -v transcript, 503 from envoy, the body without a reason', () => {
    const c = parseCurlOutput(F.SEED_004_CURL_V)!;
    expect(c).to.include({ transcript: true, httpStatus: 503, reasonPhrase: 'Service Unavailable', serverHeader: 'envoy', httpVersion: '1.1' });
    expect(c.connectedTo).to.deep.equal({ host: 'httpbin', ip: '10.105.235.142', port: 8000 });
    expect(c.headers['content-length']).to.equal('57');
    expect(c.envoyBody?.kind).to.equal('upstream-reset');
    expect(c.next.map((n) => n.diagnosis)).to.deep.equal(['why-503']);
  });

  it('seed 002: one-line transcript, 502 from envoy with an empty body -> REGISTRY_ONLY (incident 3)', () => {
    const c = parseCurlOutput(F.SEED_002_CURL_ONE_LINE)!;
    expect(c).to.include({ httpStatus: 502, serverHeader: 'envoy' });
    expect(c.headers).to.deep.include({ 'content-length': '0', date: 'Mon, 09 Mar 2020 16:11:01 GMT' });
    expect(c.inMesh).to.match(/REGISTRY_ONLY/);
    expect(c.next.map((n) => n.diagnosis)).to.deep.equal(['why-502']);
  });

  it('reads the connect and reset errors', () => {
    expect(parseCurlOutput('curl: (7) Failed to connect to 10.0.0.1 port 80: Connection refused')).to.include({ exitCode: 7, exitName: 'CURLE_COULDNT_CONNECT' });
    const reset = parseCurlOutput('curl: (56) Recv failure: Connection reset by peer')!;
    expect(reset).to.include({ exitCode: 56, errorText: 'Recv failure: Connection reset by peer' });
    expect(reset.next[0].diagnosis).to.equal('why-https-fails');
  });

  it('reads a body with a TLS transport failure reason', () => {
    const c = parseCurlOutput(`< HTTP/1.1 503 Service Unavailable\n< server: envoy\n<\n${F.REF_BODY_TLS}`)!;
    expect(c.envoyBody?.transportFailure?.sslErrors[0].name).to.equal('CERTIFICATE_VERIFY_FAILED');
  });

  for (const bad of ['', 'hello', F.SEED_004_ACCESS, ...F.SEED_004_ENVOY_LINES.slice(0, 2), '404 page not found'])
    it(`says ${JSON.stringify(bad.slice(0, 40))} is not curl output`, () => expect(parseCurlOutput(bad)).to.equal(undefined));
});

describe('curl parser never throws', () => {
  it('on arbitrary text', () => {
    fc.assert(fc.property(anyLine, (s) => onlyParseError(() => parseCurlOutput(s))), RUNS);
  });
  it('on arbitrary multi-line text', () => {
    fc.assert(fc.property(fc.array(anyLine, { maxLength: 8 }), (a) => onlyParseError(() => parseCurlOutput(a.join('\n')))), RUNS);
  });
});
