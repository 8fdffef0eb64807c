import { expect } from 'chai';
import fc from 'fast-check';
import { addCounts, formatCounts, redactObjects, redactText, REDACTED, totalCount, type RedactionCounts } from '../../src/snapshot/redact.js';

const KEY_BODY = 'MIIEvQIBADANBgkqhkiG9w0BAQEFAASCBKcwggSjAgEAAoIBAQC7\nb3BlbnNzaC1rZXktdjEAAAAABG5vbmUAAAAEbm9uZQAAAAAAAAABAAAA\n';
const PEM = `-----BEGIN PRIVATE KEY-----\n${KEY_BODY}-----END PRIVATE KEY-----\n`;
const RSA_PEM = `-----BEGIN RSA PRIVATE KEY-----\n${KEY_BODY}-----END RSA PRIVATE KEY-----`;
const CERT = '-----BEGIN CERTIFICATE-----\nMIIDCERTIFICATEBODY\n-----END CERTIFICATE-----';
const JWT = 'eyJhbGciOiJSUzI1NiIsImtpZCI6IjEifQ.eyJzdWIiOiJzeXN0ZW06c2VydmljZWFjY291bnQ6Zm9vOnNsZWVwIn0.c2lnbmF0dXJlLWJ5dGVzLWhlcmU';
const PEM_MARKER = /-----BEGIN [A-Z0-9 ]*PRIVATE KEY-----/i;

interface Case {
  name: string;
  input: string;
  expect: string | RegExp;
  counts: RedactionCounts;
  /** Substrings that must not survive. */
  gone?: string[];
}

const cases: Case[] = [
  { name: 'leaves text without secrets alone', input: 'outbound|80||httpbin.foo.svc.cluster.local::10.244.0.13:80::cx_active::0\n', expect: 'outbound|80||httpbin.foo.svc.cluster.local::10.244.0.13:80::cx_active::0\n', counts: {} },
  { name: 'a PEM private key block', input: `key:\n${PEM}after`, expect: `key:\n${REDACTED}\nafter`, counts: { 'private-key': 1 } },
  { name: 'an RSA private key, certificates kept', input: `${CERT}\n${RSA_PEM}\n${CERT}`, expect: `${CERT}\n${REDACTED}\n${CERT}`, counts: { 'private-key': 1 } },
  {
    name: 'a JSON-escaped PEM in a config dump',
    input: JSON.stringify({ inline_string: PEM, certificate_chain: { inline_string: CERT } }),
    expect: JSON.stringify({ inline_string: `${REDACTED}\n`, certificate_chain: { inline_string: CERT } }),
    counts: { 'private-key': 1 },
  },
  { name: 'a truncated PEM (no END)', input: `x: "-----BEGIN EC PRIVATE KEY-----\nMHcCAQEEIB` , expect: `x: "${REDACTED}`, counts: { 'private-key': 1 } },
  {
    name: 'a base64-encoded PEM private key (kubeconfig client-key-data)',
    input: `client-key-data: ${Buffer.from(PEM).toString('base64')}\nclient-certificate-data: ${Buffer.from(CERT).toString('base64')}`,
    expect: `client-key-data: ${REDACTED}\nclient-certificate-data: ${Buffer.from(CERT).toString('base64')}`,
    counts: { 'private-key': 1 },
  },
  {
    name: 'Envoy private_key inline_bytes that Envoy did not redact',
    input: '{"tls_certificate":{"certificate_chain":{"inline_bytes":"Q0VSVA=="},"private_key":{"inline_bytes":"AAECAwQF"}}}',
    expect: '{"tls_certificate":{"certificate_chain":{"inline_bytes":"Q0VSVA=="},"private_key":{"inline_bytes":"[redacted]"}}}',
    counts: { 'envoy-secret': 1 },
  },
  {
    name: 'Envoy\'s own redaction is left as it is',
    input: '"private_key": {\n  "inline_bytes": "W3JlZGFjdGVkXQ=="\n}, "password": {"inline_string": "[redacted]"}',
    expect: '"private_key": {\n  "inline_bytes": "W3JlZGFjdGVkXQ=="\n}, "password": {"inline_string": "[redacted]"}',
    counts: {},
  },
  { name: 'an Authorization: Bearer header', input: 'authorization: Bearer abc.def-ghi\n', expect: `authorization: Bearer ${REDACTED}\n`, counts: { 'bearer-token': 1 } },
  { name: 'an Authorization: Basic header', input: '"Authorization": "Basic dXNlcjpwYXNz"', expect: `"Authorization": "Basic ${REDACTED}"`, counts: { 'bearer-token': 1 } },
  { name: 'an Envoy debug header dump', input: "'authorization', 'Bearer " + JWT + "'", expect: `'authorization', 'Bearer ${REDACTED}'`, counts: { 'bearer-token': 1 } },
  { name: 'a bearer token outside a header', input: 'curl -H "Bearer 0123456789abcdefXYZ"', expect: `curl -H "Bearer ${REDACTED}"`, counts: { 'bearer-token': 1 } },
  { name: 'the word bearer in prose is not a token', input: 'missing Bearer token in request', expect: 'missing Bearer token in request', counts: {} },
  { name: 'a bare JWT', input: `jwt=${JWT} next`, expect: `jwt=${REDACTED} next`, counts: { jwt: 1 } },
  { name: 'a kubeconfig token field', input: 'users:\n- name: u\n  user:\n    token: sha256~abcdefgh\n', expect: `users:\n- name: u\n  user:\n    token: ${REDACTED}\n`, counts: { 'token-field': 1 } },
  { name: 'a JSON token field', input: '{"token": "s3cr3t", "id-token":"x1"}', expect: `{"token": "${REDACTED}", "id-token":"${REDACTED}"}`, counts: { 'token-field': 2 } },
  { name: 'a password field', input: 'password: hunter2\n', expect: `password: ${REDACTED}\n`, counts: { 'token-field': 1 } },
  { name: 'a token path is not a secret', input: 'token: /var/run/secrets/tokens/istio-token\n', expect: 'token: /var/run/secrets/tokens/istio-token\n', counts: {} },
  { name: 'token-ish keys that are not token fields', input: 'tokens_per_fill: 5\nautomountServiceAccountToken: true\nmax_token: 3\n', expect: 'tokens_per_fill: 5\nautomountServiceAccountToken: true\nmax_token: 3\n', counts: {} },
  { name: 'a token field holding a JWT counts once, as a JWT', input: `token: ${JWT}`, expect: `token: ${REDACTED}`, counts: { jwt: 1 } },
];

describe('snapshot redaction: redactText', () => {
  for (const c of cases) {
    it(c.name, () => {
      const out = redactText(c.input);
      if (typeof c.expect === 'string') expect(out.text).to.equal(c.expect);
      else expect(out.text).to.match(c.expect);
      expect(out.counts).to.deep.equal(c.counts);
      expect(out.text).not.to.match(PEM_MARKER);
    });
  }

  it('counts every occurrence', () => {
    const out = redactText(`${PEM}\n${PEM}\n${JWT} ${JWT}`);
    expect(out.counts).to.deep.equal({ 'private-key': 2, jwt: 2 });
    expect(totalCount(out.counts)).to.equal(4);
    expect(formatCounts(out.counts)).to.equal('2 private-key, 2 jwt');
  });

  it('adds counts', () => {
    expect(addCounts({ jwt: 1 }, { jwt: 2, 'private-key': 1 })).to.deep.equal({ jwt: 3, 'private-key': 1 });
  });
});

describe('snapshot redaction: properties', () => {
  const pemBlock = fc.record({
    label: fc.constantFrom('', 'RSA ', 'EC ', 'ENCRYPTED ', 'OPENSSH ', 'DSA '),
    body: fc.stringMatching(/^[A-Za-z0-9+/=\n]{0,200}$/),
    newline: fc.constantFrom('\n', '\\n', '\r\n'),
    terminated: fc.boolean(),
  }).map(({ label, body, newline, terminated }) =>
    `-----BEGIN ${label}PRIVATE KEY-----${newline}${body}${newline}${terminated ? `-----END ${label}PRIVATE KEY-----` : ''}`);
  /** Text around a secret: arbitrary, and text made of the characters secrets are made of. */
  const noise = fc.oneof(fc.string({ maxLength: 80 }), fc.stringMatching(/^[-A-Za-z0-9+/=\s"':{},.\\]{0,80}$/));

  it('never throws, and returns a string and non-negative counts, for any input', () => {
    fc.assert(fc.property(fc.oneof(fc.string({ maxLength: 400 }), fc.string({ unit: 'binary', maxLength: 200 })), (input) => {
      const out = redactText(input);
      expect(out.text).to.be.a('string');
      for (const n of Object.values(out.counts)) expect(n).to.be.greaterThan(0);
    }), { numRuns: 500 });
  });

  it('leaves no PEM private key block in any text that had one', () => {
    fc.assert(fc.property(fc.array(fc.tuple(noise, pemBlock), { minLength: 1, maxLength: 4 }), noise, (parts, tail) => {
      const input = parts.map(([before, pem]) => before + pem).join('') + tail;
      const out = redactText(input);
      expect(out.text).not.to.match(PEM_MARKER);
      expect(out.counts['private-key'] ?? 0).to.be.greaterThan(0);
    }), { numRuns: 500 });
  });

  it('leaves no PEM private key block when the key is JSON-encoded or base64-encoded', () => {
    fc.assert(fc.property(pemBlock, noise, fc.constantFrom('json', 'base64'), (pem, before, encoding) => {
      const input = encoding === 'json' ? JSON.stringify({ before, inline_string: pem }) : `${before}\nclient-key-data: ${Buffer.from(pem).toString('base64')}\n`;
      const out = redactText(input);
      expect(out.text).not.to.match(PEM_MARKER);
      if (encoding === 'base64') expect(Buffer.from(out.text.replace(/[^A-Za-z0-9+/=]/g, ''), 'base64').toString('latin1')).not.to.match(PEM_MARKER);
    }), { numRuns: 300 });
  });

  it('is idempotent: redacting twice changes nothing more', () => {
    const secretish = fc.oneof(noise, pemBlock, fc.constant(JWT), fc.constant('token: abc123'), fc.constant('Authorization: Bearer xyz'));
    fc.assert(fc.property(fc.array(secretish, { maxLength: 6 }), (parts) => {
      const once = redactText(parts.join(' '));
      const twice = redactText(once.text);
      expect(twice.text).to.equal(once.text);
      expect(twice.counts).to.deep.equal({});
    }), { numRuns: 500 });
  });

  it('never lets a JWT through', () => {
    const b64url = fc.stringMatching(/^[A-Za-z0-9_-]{2,40}$/);
    fc.assert(fc.property(noise, b64url, b64url, b64url, noise, (before, header, payload, signature, after) => {
      const jwt = `eyJ${header}.${payload}.${signature}`;
      const out = redactText(`${before} ${jwt} ${after}`);
      expect(out.text).not.to.contain(jwt);
    }), { numRuns: 300 });
  });
});

describe('snapshot redaction: redactObjects', () => {
  it('redacts every Secret value and its last-applied annotation, keeps keys', () => {
    const secret = {
      apiVersion: 'v1', kind: 'Secret',
      metadata: { name: 's', namespace: 'foo', annotations: { 'kubectl.kubernetes.io/last-applied-configuration': '{"data":{"a":"c2VjcmV0"}}' } },
      data: { 'tls.key': 'c2VjcmV0', 'ca.crt': 'Y2VydA==' }, stringData: { password: 'x' },
    };
    const { objects, counts } = redactObjects([secret]);
    expect(objects[0]!.data).to.deep.equal({ 'tls.key': REDACTED, 'ca.crt': REDACTED });
    expect((objects[0] as any).stringData).to.deep.equal({ password: REDACTED });
    expect(objects[0]!.metadata.annotations!['kubectl.kubernetes.io/last-applied-configuration']).to.equal(REDACTED);
    expect(counts).to.deep.equal({ 'secret-data': 4 });
    expect(secret.data['tls.key']).to.equal('c2VjcmV0'); // not changed in place
  });

  it('redacts literal env values with secret-looking names in pods, not the others', () => {
    const pod = {
      apiVersion: 'v1', kind: 'Pod', metadata: { name: 'p', namespace: 'foo' },
      spec: {
        containers: [{ name: 'app', env: [{ name: 'DB_PASSWORD', value: 'hunter2' }, { name: 'LOG_LEVEL', value: 'debug' }, { name: 'API_KEY', valueFrom: { secretKeyRef: { name: 's', key: 'k' } } }] }],
        initContainers: [{ name: 'init', env: [{ name: 'GITHUB_TOKEN', value: 'ghp_x' }] }],
      },
    };
    const { objects, counts } = redactObjects([pod]);
    const spec = objects[0]!.spec;
    expect(spec.containers[0].env).to.deep.equal([{ name: 'DB_PASSWORD', value: REDACTED }, { name: 'LOG_LEVEL', value: 'debug' }, pod.spec.containers[0]!.env[2]]);
    expect(spec.initContainers[0].env[0].value).to.equal(REDACTED);
    expect(counts).to.deep.equal({ 'env-secret': 2 });
  });

  it('returns other objects as they are', () => {
    const cm = { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'istio', namespace: 'istio-system' }, data: { mesh: 'x' } };
    expect(redactObjects([cm]).objects[0]).to.equal(cm);
  });

  it('never throws on arbitrary values', () => {
    fc.assert(fc.property(fc.array(fc.oneof(fc.anything(), fc.record({ kind: fc.constantFrom('Secret', 'Pod'), data: fc.anything(), spec: fc.anything(), metadata: fc.anything() }))), (values) => {
      const out = redactObjects(values);
      expect(out.objects).to.be.an('array');
    }), { numRuns: 300 });
  });
});
