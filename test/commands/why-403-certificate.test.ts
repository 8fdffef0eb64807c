import { expect } from 'chai';
import { cpSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { LAB_MTLS, meshIssuer, requireOpenssl, SLEEP, tempDir } from '../support/cert-variants.js';
import { jsonOf, REPO_ROOT, runCli } from '../support/cli.js';

/**
 * why-403 takes the identity the server sees from the client's certificate,
 * not from its service account: the oracle's healthy twin of
 * authz-principals-plaintext (auto mTLS, an ALLOW policy for principal
 * cluster.local/ns/foo/sa/sleep), with sleep's config dump given the SDS
 * secrets of the mesh lab's real capture (test/fixtures/certs), its chain
 * replaced with a certificate the lab CA issues now.
 */
const DUMP = 'proxies/foo/sleep-5b597748b4-77kj5/config_dump?include_eds';

function withSleepCertificate(dir: string, chain: string): string {
  const out = path.join(dir, 'snapshot');
  cpSync(path.join(REPO_ROOT, 'test/scenarios/authz-principals-plaintext-healthy/snapshot'), out, { recursive: true });
  const secrets = JSON.parse(readFileSync(path.join(LAB_MTLS, SLEEP, 'config_dump'), 'utf8')).configs.find((c: { '@type': string }) => c['@type'].endsWith('SecretsConfigDump'));
  for (const entry of secrets.dynamic_active_secrets) {
    if (entry.name === 'default') entry.secret.tls_certificate.certificate_chain.inline_bytes = Buffer.from(chain).toString('base64');
  }
  const dump = JSON.parse(readFileSync(path.join(out, DUMP), 'utf8'));
  // The oracle's dump has an empty SecretsConfigDump (no SDS server behind the generator): replace it.
  dump.configs = [...dump.configs.filter((c: { '@type': string }) => !c['@type'].endsWith('SecretsConfigDump')), secrets];
  writeFileSync(path.join(out, DUMP), JSON.stringify(dump));
  return out;
}

describe("why-403: the client's identity from its certificate", function () {
  this.timeout(60_000);
  const tmp = tempDir('md-why403-cert-');
  const mesh = meshIssuer(() => tmp.dir);
  before(function () {
    requireOpenssl(this);
  });
  after(() => tmp.remove());

  const run = (snap: string) => runCli(['why-403', 'sleep-5b597748b4-77kj5.foo', '--to', 'httpbin:8000', '--path', '/headers', '--from', snap, '-o', 'json']);

  it('a certificate for another service account: the ALLOW policy for sleep matches nothing, exit 3, the identity read from the certificate', async () => {
    const r = await run(withSleepCertificate(tmp.dir, (await mesh('other')).chain));
    expect(r.exitCode, r.stderr).to.equal(3);
    const report = jsonOf(r);
    expect(report.data.client).to.include({ identity: 'spiffe://cluster.local/ns/foo/sa/other' });
    expect(report.findings.filter((f: { severity: string }) => f.severity === 'error').map((f: { target: { name: string } }) => f.target.name)).to.include('allow-sleep');
  });

  it("the twin: the certificate carries sleep's identity, exit 0", async () => {
    const r = await run(withSleepCertificate(path.join(tmp.dir, 'twin'), (await mesh('sleep')).chain));
    expect(r.exitCode, r.stderr).to.equal(0);
    expect(jsonOf(r).data.client).to.include({ identity: 'spiffe://cluster.local/ns/foo/sa/sleep' });
  });
});
