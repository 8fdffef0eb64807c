import { expect } from 'chai';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { certificatesFromSecrets } from '../../src/model/envoy/certificates.js';
import { parseConfigDump } from '../../src/model/envoy/config-dump.js';
import { redactText } from '../../src/snapshot/redact.js';
import { HTTPBIN, issue, LAB_MTLS, opensslAvailable, tempDir } from '../support/cert-variants.js';

/**
 * A snapshot never writes a private key, on the real SDS secret shape: the
 * lab's Envoy 1.40 config dump (already `[redacted]` by Envoy), and the same
 * dump with a real private key put back in (as an Envoy that does not redact,
 * or a static secret in a bootstrap, would print it) — the key goes, the
 * certificate chain and root stay readable.
 */
describe('snapshot redaction on a real SDS secret', () => {
  const dump = readFileSync(path.join(LAB_MTLS, HTTPBIN, 'config_dump'), 'utf8');

  it("keeps Envoy's own redaction and every certificate as it was", () => {
    const { text, counts } = redactText(dump);
    expect(text).to.equal(dump);
    expect(counts).to.deep.equal({});
  });

  it('removes a real EC private key (inline_bytes and inline_string), and the certificates still parse', async function () {
    if (!opensslAvailable()) return this.skip();
    const tmp = tempDir('md-redact-');
    try {
      await issue(tmp.dir, 'mesh', { namespace: 'foo', serviceAccount: 'httpbin' });
      const keyFile = readFileSync(path.join(tmp.dir, 'mesh', 'mesh-key.pem'), 'utf8');
      expect(keyFile).to.contain('PRIVATE KEY');
      const withKey = dump.replace('"inline_bytes": "W3JlZGFjdGVkXQ=="', `"inline_bytes": "${Buffer.from(keyFile).toString('base64')}"`);
      const withString = dump.replace('"inline_bytes": "W3JlZGFjdGVkXQ=="', `"inline_string": ${JSON.stringify(keyFile)}`);
      for (const input of [withKey, withString]) {
        expect(input).to.not.equal(dump);
        const { text, counts } = redactText(input);
        expect(text).to.not.contain(Buffer.from(keyFile).toString('base64').slice(0, 40));
        expect(text).to.not.contain('PRIVATE KEY');
        expect(Object.values(counts).reduce((a, b) => a + b, 0)).to.be.greaterThan(0);
        const certs = certificatesFromSecrets(parseConfigDump(text, 'redacted').secrets);
        expect(certs.chain[0]?.spiffe?.serviceAccount).to.equal('httpbin');
        expect(certs.roots).to.have.length(1);
      }
    } finally {
      tmp.remove();
    }
  });
});
