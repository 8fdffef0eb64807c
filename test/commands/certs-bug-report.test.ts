import { expect } from 'chai';
import { renameSync, rmSync } from 'node:fs';
import path from 'node:path';
import { create } from 'tar';
import { asn1, HTTPBIN, issue, opensslAvailable, SLEEP, tempDir, variantSnapshot } from '../support/cert-variants.js';
import { jsonOf, runCli, type CliResult } from '../support/cli.js';

/**
 * certs on an `istioctl bug-report` archive: istioctl writes its tree under
 * bug-report/, one `config_dump` per proxy (its SDS secrets carry the
 * certificates; tools/bug-report/pkg/content), no `certs` endpoint output and
 * no meta.json. The same mesh (a variant of the lab capture with an expired
 * httpbin certificate, test/support/cert-variants.ts) gives the same verdict
 * as from mesh-doctor's own snapshot.
 */
const codes = (r: CliResult) => jsonOf(r).findings.map((f: { code: string; target: { namespace: string; name: string } }) => `${f.code} ${f.target.namespace}/${f.target.name}`);

describe('certs on an istioctl bug-report archive', function () {
  const tmp = tempDir('md-certs-bug-report-');
  before(function () {
    if (!opensslAvailable()) {
      console.log('    (skipped: openssl is not on PATH; the variants issue real certificates with it)');
      this.skip();
    }
  });
  after(() => tmp.remove());

  it('reads each proxy\'s certificates from its config_dump: the expired httpbin certificate, as from a snapshot (MD5001, exit 3)', async () => {
    const mesh = (sa: string, extra: object = {}) => issue(tmp.dir, 'mesh', { namespace: 'foo', serviceAccount: sa, notBefore: asn1(-72), notAfter: asn1(24 * 30), ...extra });
    const snap = variantSnapshot(tmp.dir, { [HTTPBIN]: await mesh('httpbin', { notAfter: asn1(-48) }), [SLEEP]: await mesh('sleep') });
    const fromSnapshot = await runCli(['certs', '-A', '--from', snap, '-o', 'json', '--warn-days', '0']);
    // The bug-report layout: bug-report/ at the top, config_dump only, no meta.json.
    for (const proxy of [HTTPBIN, SLEEP]) rmSync(path.join(snap, proxy, 'certs'));
    rmSync(path.join(snap, 'meta.json'));
    renameSync(snap, path.join(tmp.dir, 'bug-report'));
    const archive = path.join(tmp.dir, 'bug-report.tar.gz');
    await create({ gzip: true, file: archive, cwd: tmp.dir }, ['bug-report']);
    const fromArchive = await runCli(['certs', '-A', '--from', archive, '-o', 'json', '--warn-days', '0']);
    expect(fromArchive.exitCode, fromArchive.stderr).to.equal(3);
    expect(codes(fromArchive)).to.deep.equal(['MD5001 foo/httpbin-94fdb8c79-h9zrq']);
    expect(codes(fromArchive)).to.deep.equal(codes(fromSnapshot));
    expect(jsonOf(fromArchive).data.proxies.map((p: { identity?: string; origin?: string }) => [p.identity, p.origin])).to.deep.equal([
      ['spiffe://cluster.local/ns/foo/sa/httpbin', 'config_dump'],
      ['spiffe://cluster.local/ns/foo/sa/sleep', 'config_dump'],
    ]);
  });
});
