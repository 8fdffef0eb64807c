import Why503 from './why-503.js';

/**
 * why-mtls-fails: the handshake between two sidecars judged from both sides'
 * certificates — why-503's diagnosis (one place for the logic: the mTLS rules
 * run in why-503 too), with its verdict about the handshake.
 */
export default class WhyMtlsFails extends Why503 {
  static override summary = "Why does mTLS between two sidecars fail? The server's certificate against what the client expects";
  static override description = `Reads both sidecars' certificates (their SDS secrets: the chain each presents and the root it
trusts), what the client's cluster expects of the server (the SANs Istio wrote from service accounts, a
DestinationRule's or ServiceEntry's subjectAltNames), what the server's inbound demands, and the handshake
lines on both sides; then judges the handshake: an identity the client does not accept (MD5005), another
trust domain (MD5006), certificates from different roots (MD5007), an expired or not-yet-valid certificate
(MD5001), the client's own TLS to a sidecar'd server (MD5008), plaintext to a STRICT server (MD3001).
Capture flags work as in why-503.`;
  static override examples = [
    '<%= config.bin %> why-mtls-fails sleep-5b597748b4-77kj5.foo --to httpbin:8000',
    "<%= config.bin %> why-mtls-fails sleep-5b597748b4-77kj5.foo --to httpbin:8000 --reproduce 'curl -sv http://httpbin:8000/headers'",
    '<%= config.bin %> why-mtls-fails sleep-5b597748b4-77kj5.foo --to httpbin:8000 --from test/fixtures/certs/lab-mtls',
  ];
  // oclif reads a command's own statics: inherited ones are not seen.
  static override args = Why503.args;
  // The keep-alive comparison belongs to 503s: accepted, not offered.
  static override flags = { ...Why503.flags, 'app-keepalive': { ...Why503.flags['app-keepalive'], hidden: true }, probe: { ...Why503.flags.probe, hidden: true } };
  protected override readonly verdictFor = 'why-mtls-fails';
}

