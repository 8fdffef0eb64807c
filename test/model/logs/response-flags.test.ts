import { expect } from 'chai';
import fc from 'fast-check';
import {
  RESPONSE_FLAGS,
  lookupResponseFlag,
  parseResponseFlags,
  decodeResponseCodeDetails,
  decodeTransportFailureReason,
  decodeEnvoyLocalReplyBody,
  lookupResetReason,
} from '../../../src/model/logs/response-flags.js';
import { anyLine, onlyParseError, RUNS } from './property.js';
import * as F from './fixtures.js';

describe('response flags', () => {
  it('has every core flag of envoy/stream_info/stream_info.h, once, with its long name', () => {
    const codes = RESPONSE_FLAGS.map((f) => f.code);
    // Order of CoreResponseFlag (LH .. UDO).
    expect(codes).to.deep.equal([
      'LH', 'UH', 'UT', 'LR', 'UR', 'UF', 'UC', 'UO', 'NR', 'DI', 'FI', 'RL', 'UAEX', 'RLSE', 'DC', 'URX',
      'SI', 'IH', 'DPE', 'UMSDR', 'RFCF', 'NFCF', 'DT', 'UPE', 'NC', 'OM', 'DF', 'DO', 'DR', 'UDO',
    ]);
    expect(new Set(codes).size).to.equal(codes.length);
    expect(lookupResponseFlag('UF')?.longName).to.equal('UpstreamConnectionFailure');
    expect(lookupResponseFlag('OM')?.longName).to.equal('OverloadManagerTerminated');
    expect(lookupResponseFlag('DF')?.longName).to.equal('DnsResolutionFailed');
  });

  it('gives the usual status and next diagnosis', () => {
    expect(lookupResponseFlag('UH')).to.include({ typicalStatus: 503, next: 'why-503' });
    expect(lookupResponseFlag('UT')).to.include({ typicalStatus: 504 });
    expect(lookupResponseFlag('RL')).to.include({ typicalStatus: 429 });
    expect(lookupResponseFlag('UPE')).to.include({ typicalStatus: 503, next: 'why-503' }); // router.cc: onUpstreamAbort(ServiceUnavailable)
    expect(lookupResponseFlag('NR')).to.include({ typicalStatus: 404, next: 'why-inbound-fails' });
  });

  const good: Array<[string, string[]]> = [
    ['UC', ['UC']], // seed 004
    ['UF,URX', ['UF', 'URX']],
    ['URX,UF', ['URX', 'UF']], // public tutorial line
    ['NR', ['NR']], // reference #27903
    ['UpstreamConnectionFailure,UpstreamRetryLimitExceeded', ['UF', 'URX']], // %RESPONSE_FLAGS_LONG%
  ];
  for (const [input, codes] of good)
    it(`parses ${input}`, () => {
      const p = parseResponseFlags(input)!;
      expect(p.none).to.equal(false);
      expect(p.flags.map((f) => f.code)).to.deep.equal(codes);
    });

  it('parses "-" as no flag', () => {
    expect(parseResponseFlags('-')).to.deep.include({ none: true, flags: [] });
  });

  for (const bad of ['', 'HTTP_REQUEST', 'hello', 'UF URX', '503', 'uf', 'ZZZ', 'UF,', 'via_upstream'])
    it(`rejects ${JSON.stringify(bad)}`, () => expect(parseResponseFlags(bad)).to.equal(undefined));

  it('keeps flags it does not know next to known ones', () => {
    expect(parseResponseFlags('UF,XYZ')).to.deep.include({ unknown: ['XYZ'] });
  });
});

describe('response code details', () => {
  it('decodes the 1.10 localhost details (reference, istio/istio#51267): "," separator, errno 111', () => {
    const d = decodeResponseCodeDetails('upstream_reset_before_response_started{remote_connection_failure,delayed_connect_error:_111}')!;
    expect(d.name).to.equal('upstream_reset_before_response_started');
    expect(d.resetReason?.text).to.equal('remote connection failure');
    expect(d.transportFailure).to.include({ kind: 'connect-errno', errno: 111, errnoName: 'ECONNREFUSED' });
    expect(d.next).to.equal('why-inbound-fails');
  });

  it('decodes the newer "|" separator with a TLS error inside (public tutorial line)', () => {
    const d = decodeResponseCodeDetails(
      'upstream_reset_before_response_started{remote_connection_failure|TLS_error:|268435703:SSL_routines:OPENSSL_internal:WRONG_VERSION_NUMBER:TLS_error_end}',
    )!;
    expect(d.resetReason?.raw).to.equal('remote_connection_failure');
    expect(d.transportFailure?.kind).to.equal('tls');
    expect(d.transportFailure?.sslErrors[0]).to.include({ code: 268435703, name: 'WRONG_VERSION_NUMBER' });
    expect(d.next).to.equal('why-https-fails');
  });

  it('decodes connection_termination without a transport reason', () => {
    const d = decodeResponseCodeDetails('upstream_reset_before_response_started{connection_termination}')!;
    expect(d.resetReason).to.include({ text: 'connection termination', flag: 'UC' });
    expect(d.transportFailure).to.equal(undefined);
  });

  const simple: Array<[string, string | undefined]> = [
    ['filter_chain_not_found', 'why-inbound-fails'],
    ['direct_response', 'why-502'],
    ['route_not_found', 'why-503'],
    ['cluster_not_found', 'why-503'],
    ['via_upstream', undefined],
  ];
  for (const [name, next] of simple)
    it(`knows ${name}`, () => {
      const d = decodeResponseCodeDetails(name)!;
      expect(d.known).to.equal(true);
      expect(d.next).to.equal(next);
    });

  it('reads bracketed and parenthesised arguments', () => {
    expect(decodeResponseCodeDetails('rbac_access_denied_matched_policy[none]')).to.include({ known: true, argument: 'none' });
    expect(decodeResponseCodeDetails('downstream_local_disconnect(filter_chain_is_being_removed)')).to.include({
      known: true,
      argument: 'filter_chain_is_being_removed',
    });
    expect(decodeResponseCodeDetails('http1.codec_error')).to.include({ known: true, codec: 'http1.codec_error' });
  });

  for (const bad of ['-', '', 'UF', '503', 'hello world', 'Upstream_Reset'])
    it(`does not decode ${JSON.stringify(bad)}`, () => expect(decodeResponseCodeDetails(bad)?.known ?? false).to.equal(false));
});

describe('transport failure reasons and local-reply bodies', () => {
  it('decodes delayed_connect_error in both spellings', () => {
    expect(decodeTransportFailureReason('delayed_connect_error:_111')).to.include({ errno: 111 });
    expect(decodeTransportFailureReason('delayed connect error: 111')).to.include({ errno: 111 });
    expect(decodeTransportFailureReason('-')).to.equal(undefined);
  });

  it('decodes the reference client-side body (old TLS error format)', () => {
    const b = decodeEnvoyLocalReplyBody(F.REF_BODY_TLS)!;
    expect(b.kind).to.equal('upstream-reset');
    expect(b.resetReason?.text).to.equal('connection failure');
    expect(b.transportFailure?.sslErrors[0]).to.include({ code: 268435581, name: 'CERTIFICATE_VERIFY_FAILED' });
    expect(b.next).to.equal('why-https-fails');
  });

  it('decodes a retried body with the new TLS format (public)', () => {
    const b = decodeEnvoyLocalReplyBody(F.PUBLIC_BODY_RETRIED)!;
    expect(b.retried).to.equal(true);
    expect(b.resetReason?.text).to.equal('remote connection failure');
  });

  it('decodes seed 004 body (no reason, old Envoy) and the short bodies', () => {
    expect(decodeEnvoyLocalReplyBody('upstream connect error or disconnect/reset before headers')).to.include({ kind: 'upstream-reset' });
    expect(decodeEnvoyLocalReplyBody('no healthy upstream')).to.include({ kind: 'no-healthy-upstream' });
    expect(decodeEnvoyLocalReplyBody('upstream request timeout')).to.include({ kind: 'upstream-timeout' });
    expect(decodeEnvoyLocalReplyBody('404 page not found')).to.equal(undefined);
  });

  it('maps reset reasons to the flag the router sets', () => {
    expect(lookupResetReason('remote_connection_failure')?.flag).to.equal('UF');
    expect(lookupResetReason('overflow')?.flag).to.equal('UO');
    expect(lookupResetReason('nonsense')).to.equal(undefined);
  });
});

describe('response-flags decoders never throw', () => {
  it('on arbitrary input', () => {
    fc.assert(
      fc.property(anyLine, (s) => {
        onlyParseError(() => parseResponseFlags(s));
        onlyParseError(() => decodeResponseCodeDetails(s));
        onlyParseError(() => decodeTransportFailureReason(s));
        onlyParseError(() => decodeEnvoyLocalReplyBody(s));
        onlyParseError(() => lookupResponseFlag(s));
      }),
      RUNS,
    );
  });
});
