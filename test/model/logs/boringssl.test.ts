import { expect } from 'chai';
import fc from 'fast-check';
import {
  decodeBoringSslCode,
  lookupSslReason,
  packBoringSslCode,
  splitBoringSslCode,
  parseEnvoySslErrors,
  parseOpenSslErrorString,
  SSL_REASONS,
  ERR_LIB_SSL,
} from '../../../src/model/logs/boringssl.js';
import { anyLine, onlyParseError, RUNS } from './property.js';
import * as F from './fixtures.js';

describe('BoringSSL packed codes', () => {
  // The codes listed in shared/reference/envoy-istio.md, with the names BoringSSL's ssl.h gives them.
  const table: Array<[number, number, number, string]> = [
    [268435581, 16, 125, 'CERTIFICATE_VERIFY_FAILED'],
    [268435612, 16, 156, 'HTTP_REQUEST'],
    [268435640, 16, 184, 'NO_SHARED_CIPHER'],
    [268435648, 16, 192, 'PEER_DID_NOT_RETURN_A_CERTIFICATE'],
    [268435703, 16, 247, 'WRONG_VERSION_NUMBER'],
    [268436496, 16, 1040, 'SSLV3_ALERT_HANDSHAKE_FAILURE'],
    [268436501, 16, 1045, 'SSLV3_ALERT_CERTIFICATE_EXPIRED'],
    [268436504, 16, 1048, 'TLSV1_ALERT_UNKNOWN_CA'],
    [268436572, 16, 1116, 'TLSV1_ALERT_CERTIFICATE_REQUIRED'],
    [33554536, 2, 104, 'ECONNRESET'],
  ];
  for (const [code, lib, reason, name] of table)
    it(`${code} = lib ${lib} reason ${reason} ${name}`, () => {
      const d = decodeBoringSslCode(code)!;
      expect(d).to.include({ lib, reason, name });
      expect(splitBoringSslCode(code)).to.deep.equal({ lib, reason });
      expect(packBoringSslCode(lib, reason)).to.equal(code);
    });

  it('every table entry round-trips through pack/decode', () => {
    for (const r of SSL_REASONS) expect(decodeBoringSslCode(packBoringSslCode(r.lib, r.reason))?.info).to.equal(r);
  });

  it('HTTP_REQUEST says plaintext reached a TLS listener', () => {
    const info = lookupSslReason(268435612)!;
    expect(info.meaning).to.match(/Plain HTTP/);
    expect(info.lib).to.equal(ERR_LIB_SSL);
  });

  for (const bad of [0, -1, 1.5, 2 ** 33, 12345, Number.NaN])
    it(`rejects ${bad}`, () => expect(decodeBoringSslCode(bad)).to.equal(undefined));

  it('decodes an SSL-library reason it has no notes for without inventing a name', () => {
    const d = decodeBoringSslCode(packBoringSslCode(16, 137))!;
    expect(d).to.include({ lib: 16, reason: 137 });
    expect(d.info).to.equal(undefined);
    expect(d.name).to.equal(undefined);
  });
});

describe('lookupSslReason', () => {
  const good: Array<[string, string]> = [
    ['HTTP_REQUEST', 'HTTP_REQUEST'],
    ['SSL_R_HTTP_REQUEST', 'HTTP_REQUEST'],
    ['CERTIFICATE_VERIFY_FAILED', 'CERTIFICATE_VERIFY_FAILED'],
    ['certificate verify failed', 'CERTIFICATE_VERIFY_FAILED'],
    ['CERTIFICATE_EXPIRED', 'SSLV3_ALERT_CERTIFICATE_EXPIRED'], // the reference's shorthand
    ['unknown protocol', 'UNKNOWN_PROTOCOL'],
    ['268435612', 'HTTP_REQUEST'],
  ];
  for (const [q, name] of good) it(`finds ${q}`, () => expect(lookupSslReason(q)?.name).to.equal(name));
  for (const bad of ['', 'UC', 'NOT_A_REASON', '999999999', 'x'.repeat(200)])
    it(`does not find ${JSON.stringify(bad.slice(0, 20))}`, () => expect(lookupSslReason(bad)).to.equal(undefined));
});

describe('parseEnvoySslErrors', () => {
  it('reads the seed 004 "SSL error:" line', () => {
    const [e] = parseEnvoySslErrors('SSL error: 268435612:SSL routines:OPENSSL_internal:HTTP_REQUEST');
    expect(e).to.include({ code: 268435612, name: 'HTTP_REQUEST', libText: 'SSL routines', funcText: 'OPENSSL_internal' });
  });
  it('reads the new format with a detail (reference)', () => {
    const [e] = parseEnvoySslErrors(F.REF_TLS_NEW);
    expect(e).to.include({ code: 268435581, name: 'CERTIFICATE_VERIFY_FAILED', detail: 'verify cert failed: verify SAN list' });
  });
  it('reads the access-log form where spaces became underscores', () => {
    const [e] = parseEnvoySslErrors('TLS_error:|268435703:SSL_routines:OPENSSL_internal:WRONG_VERSION_NUMBER:TLS_error_end');
    expect(e).to.include({ name: 'WRONG_VERSION_NUMBER', libText: 'SSL routines' });
    expect(e.detail).to.equal(undefined);
  });
  it('reads several errors and SYS-library errors', () => {
    const errs = parseEnvoySslErrors(
      'TLS_error:|33554536:system library:OPENSSL_internal:Connection reset by peer|268435581:SSL routines:OPENSSL_internal:CERTIFICATE_VERIFY_FAILED:TLS_error_end',
    );
    expect(errs.map((e) => e.name)).to.deep.equal(['ECONNRESET', 'CERTIFICATE_VERIFY_FAILED']);
  });
  for (const bad of ['', 'closing socket: 0', '12345:SSL', 'TLS error:'])
    it(`finds nothing in ${JSON.stringify(bad)}`, () => expect(parseEnvoySslErrors(bad)).to.deep.equal([]));
});

describe('parseOpenSslErrorString', () => {
  it('decodes seed 000 (OpenSSL 1.0 packing: lib 20, func 119, reason 252)', () => {
    const o = parseOpenSslErrorString(F.SEED_000_CURL)!;
    expect(o).to.include({ hex: '140770FC', packing: 'openssl-1.x', lib: 20, func: 119, reason: 252, reasonText: 'unknown protocol' });
    expect(o.info?.name).to.equal('UNKNOWN_PROTOCOL');
    expect(o.info?.next).to.equal('why-https-fails');
  });
  it('decodes OpenSSL 3 packing (empty function field)', () => {
    const o = parseOpenSslErrorString('error:0A00010B:SSL routines::wrong version number')!;
    expect(o).to.include({ packing: 'openssl-3', lib: 20, reason: 267 });
    expect(o.info?.name).to.equal('WRONG_VERSION_NUMBER');
  });
  it('decodes OpenSSL 1.1 handshake alert', () => {
    const o = parseOpenSslErrorString('error:14094410:SSL routines:ssl3_read_bytes:sslv3 alert handshake failure')!;
    expect(o).to.include({ lib: 20, reason: 0x410 });
    expect(o.info?.name).to.equal('SSLV3_ALERT_HANDSHAKE_FAILURE');
  });
  for (const bad of ['', 'error:', 'error:XYZ:SSL', 'curl: (7) Failed to connect'])
    it(`rejects ${JSON.stringify(bad)}`, () => expect(parseOpenSslErrorString(bad)).to.equal(undefined));
});

describe('BoringSSL decoders never throw', () => {
  it('on arbitrary strings and numbers', () => {
    fc.assert(
      fc.property(anyLine, fc.double(), fc.integer(), (s, d, i) => {
        onlyParseError(() => parseEnvoySslErrors(s));
        onlyParseError(() => parseOpenSslErrorString(s));
        onlyParseError(() => lookupSslReason(s));
        onlyParseError(() => decodeBoringSslCode(d));
        onlyParseError(() => decodeBoringSslCode(i));
      }),
      RUNS,
    );
  });
});
