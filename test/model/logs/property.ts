/**
 * Shared arbitraries for the log parsers' property tests: parsers may return
 * undefined for anything, but may only ever throw ParseError.
 */
import fc from 'fast-check';
import { ParseError } from '../../../src/errors.js';
import * as F from './fixtures.js';

export function onlyParseError(fn: () => unknown): void {
  try {
    fn();
  } catch (err) {
    if (!(err instanceof ParseError)) throw err;
  }
}

const REAL_LINES: string[] = [
  F.SEED_004_ACCESS,
  ...F.SEED_004_ENVOY_LINES,
  F.SEED_004_CURL_V,
  F.SEED_000_CURL,
  F.SEED_003_MISMATCH,
  F.SEED_003_TRAEFIK,
  F.SEED_002_CURL_ONE_LINE,
  F.REF_LOCALHOST_110,
  F.REF_NR_FILTER_CHAIN,
  F.REF_BLOCK_ALL,
  F.REF_TLS_OLD,
  F.REF_TLS_NEW,
  F.REF_BODY_TLS,
  F.PUBLIC_WRONG_VERSION,
  F.PUBLIC_ISTIO_NEW_CONNECTION,
  F.PUBLIC_ENVOY_UNKNOWN_CA,
  F.PUBLIC_BODY_RETRIED,
  F.CONSTRUCTED_TCP_NR,
  F.CONSTRUCTED_ISTIO_18,
  F.CONSTRUCTED_JSON_ACCESS,
  F.CONSTRUCTED_JSON_ENVOY,
  F.CONSTRUCTED_ISTIO_LEGACY,
  F.CONSTRUCTED_ROUTER_RESET,
];

const TOKENS = [
  '"GET / HTTP/1.1"', '"- - -"', '0', '200', '503', '502', '-', 'UF', 'UF,URX', 'NR', 'UC', 'UH',
  'via_upstream', 'filter_chain_not_found', 'direct_response', 'upstream_reset_before_response_started{',
  '}', '{', '"', '[', ']', '[C12]', '[Tags:', '"ConnectionId":"1"]', 'remote address:', 'TLS_error:|',
  '268435612:SSL routines:OPENSSL_internal:HTTP_REQUEST', ':TLS_error_end', 'TLS error:', 'SSL error:',
  'handshake error:', 'closing socket:', 'new connection from', '10.0.0.1:80', 'inbound|8080||',
  'outbound|443||x', 'BlackHoleCluster', 'block_all', 'curl: (35)', 'error:140770FC:SSL routines:X:unknown protocol',
  '< HTTP/1.1 503', '< server: envoy', '* subject:', '2024-01-01T00:00:00.000000Z', '\t', 'debug', 'envoy',
  'connection', 'thread=1', '{"response_code":', '{"scope":"envoy x","msg":', '\n', '...', '\u0000', '\uFFFF',
];

/** Lines assembled from tokens the parsers look for, in random order. */
export const tokenSoup = fc.array(fc.constantFrom(...TOKENS), { maxLength: 30 }).map((a) => a.join(' '));

/** Real lines with a random slice cut out and random text spliced in. */
export const mutatedRealLine = fc
  .tuple(fc.constantFrom(...REAL_LINES), fc.nat(), fc.nat(), fc.string({ maxLength: 20 }))
  .map(([line, a, b, ins]) => {
    const i = a % (line.length + 1);
    const j = b % (line.length + 1);
    const [lo, hi] = i < j ? [i, j] : [j, i];
    return line.slice(0, lo) + ins + line.slice(hi);
  });

/** Anything: arbitrary strings (incl. lone surrogates), token soup, mutated real lines. */
export const anyLine = fc.oneof(fc.string(), fc.string({ unit: 'binary' }), tokenSoup, mutatedRealLine);

export const RUNS = { numRuns: 400 };
