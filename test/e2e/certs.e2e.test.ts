import { expect } from 'chai';
import { asn1, HTTPBIN, issue, opensslAvailable, SLEEP, tempDir, variantSnapshot } from '../support/cert-variants.js';
import { jsonOf, runCli, type CliResult } from '../support/cli.js';
import { requireKubectl, startE2E } from '../support/e2e.js';

/**
 * `certs -A` live, through the real kubectl against the test cluster serving
 * each variant of the mesh lab's capture (test/support/cert-variants.ts: the
 * lab's real config dumps with secrets the lab CA issues now), finds what the
 * offline run on the same snapshot finds: each verdict's broken scenario and
 * its healthy twin, culprit and exit code, live and offline.
 */
const codes = (r: CliResult) => jsonOf(r).findings.map((f: { code: string; target: { kind: string; namespace: string; name: string } }) => `${f.code} ${f.target.kind} ${f.target.namespace}/${f.target.name}`);

describe('certs -A live on the test cluster: the verdicts offline gives on the same snapshot', function () {
  this.timeout(240_000);
  const tmp = tempDir('md-certs-e2e-');
  const mesh = (sa: string, extra: object = {}) => issue(tmp.dir, 'mesh', { namespace: 'foo', serviceAccount: sa, notBefore: asn1(-1), notAfter: asn1(24), ...extra });
  before(function () {
    requireKubectl(this);
    if (!opensslAvailable()) {
      console.log('    (skipped: openssl is not on PATH; the variants issue real certificates with it)');
      this.skip();
    }
  });
  after(() => tmp.remove());

  const cases: Array<{ what: string; secrets: () => Promise<Parameters<typeof variantSnapshot>[1]>; expected: string[] }> = [
    { what: 'an expired workload certificate: MD5001', secrets: async () => ({ [HTTPBIN]: await mesh('httpbin', { notBefore: asn1(-72), notAfter: asn1(-48) }), [SLEEP]: await mesh('sleep') }), expected: ['MD5001 Pod foo/httpbin-94fdb8c79-h9zrq'] },
    { what: 'a second root: MD5003', secrets: async () => ({ [HTTPBIN]: await mesh('httpbin'), [SLEEP]: await issue(tmp.dir, 'second', { namespace: 'foo', serviceAccount: 'sleep', notBefore: asn1(-1), notAfter: asn1(24) }) }), expected: ['MD5003 Pod foo/sleep-5b597748b4-77kj5'] },
    { what: 'another service account\'s identity: MD5004', secrets: async () => ({ [HTTPBIN]: await mesh('default'), [SLEEP]: await mesh('sleep') }), expected: ['MD5004 Pod foo/httpbin-94fdb8c79-h9zrq'] },
    { what: 'the healthy twin: nothing', secrets: async () => ({ [HTTPBIN]: await mesh('httpbin'), [SLEEP]: await mesh('sleep') }), expected: [] },
  ];
  for (const { what, secrets, expected } of cases) {
    it(`${what}, exit ${expected.length ? 3 : 0}, live as offline`, async () => {
      const snap = variantSnapshot(tmp.dir, await secrets());
      const offline = await runCli(['certs', '-A', '--from', snap, '-o', 'json', '--warn-days', '0']);
      const e2e = await startE2E({ snapshotDir: snap });
      try {
        const live = await e2e.kubectl(['certs', '-A', '-o', 'json', '--warn-days', '0']);
        expect(live.exitCode, live.stderr).to.equal(expected.length ? 3 : 0);
        expect(codes(live)).to.deep.equal(expected);
        expect(codes(live)).to.deep.equal(codes(offline));
        expect(live.exitCode).to.equal(offline.exitCode);
        // Live, each proxy was read from the cluster, not from files.
        expect(jsonOf(live).data.proxies.map((p: { error?: string }) => p.error ?? 'read')).to.deep.equal(['read', 'read']);
      } finally {
        await e2e.stop();
      }
    });
  }
});
