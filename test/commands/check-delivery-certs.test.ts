import { expect } from 'chai';
import { cp, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { asn1, HTTPBIN, issue, opensslAvailable, SLEEP, tempDir, variantSnapshot } from '../support/cert-variants.js';
import { jsonOf, REPO_ROOT, runCli } from '../support/cli.js';
import { luaEnvoyFilter, rejectListener } from '../support/rejected-dump.js';

/**
 * check's config delivery group (MD7001 rejected / MD7002 warming, over the
 * whole proxy) and certificates group (MD5001-MD5004 across the proxies), each
 * with a broken scenario and its healthy twin. Fixtures: the oracle's seed 004
 * twin with virtualInbound rejected as real Envoy 1.40 records it
 * (test/fixtures/config-state/PROVENANCE.md); the mesh lab's capture with
 * certificates the lab CA issues now (test/support/cert-variants.ts).
 */
interface Line { rule: string; status: string; culprits: Array<{ code: string; target: string; pods: { count: number; names: string[] }; next: string }> }
const lineOf = (report: any, rule: string): Line => report.data.groups.flatMap((g: { checks: Line[] }) => g.checks).find((l: Line) => l.rule === rule);

describe('check: config delivery and certificates', function () {
  this.timeout(120_000);

  it('a listener Envoy rejected: MD7001 on the EnvoyFilter that patched in what the reason names, exit 3; the twin passes', async () => {
    const healthy = path.join(REPO_ROOT, 'test/scenarios/seed004-dr-tls-disable-healthy/snapshot');
    const dir = await mkdtemp(path.join(tmpdir(), 'md-check-rejected-'));
    try {
      await cp(healthy, dir, { recursive: true });
      const file = path.join(dir, 'proxies/foo/httpbin-94fdb8c79-h9zrq/config_dump?include_eds');
      const dump = JSON.parse(await readFile(file, 'utf8'));
      rejectListener(dump, 'virtualInbound');
      await writeFile(file, JSON.stringify(dump));
      const crs = path.join(dir, 'cluster/crs');
      await writeFile(crs, `${await readFile(crs, 'utf8').catch(() => '')}\n---\n${luaEnvoyFilter('foo', { app: 'httpbin' }, 'SIDECAR_INBOUND')}`);
      const r = await runCli(['check', '-A', '--from', dir, '-o', 'json']);
      expect(r.exitCode, r.stderr).to.equal(3);
      const rejected = lineOf(jsonOf(r), 'md7001-rejected-config');
      expect(rejected.status).to.equal('error');
      expect(rejected.culprits.map((c) => `${c.code} ${c.target} ${c.pods.names.join(',')}`)).to.deep.equal(['MD7001 EnvoyFilter foo/lua-auth httpbin-94fdb8c79-h9zrq.foo']);
      expect(lineOf(jsonOf(r), 'md7002-warming-config').status).to.equal('passed');
      const twin = jsonOf(await runCli(['check', '-A', '--from', healthy, '-o', 'json']));
      expect(['md7001-rejected-config', 'md7002-warming-config'].map((rule) => lineOf(twin, rule).status)).to.deep.equal(['passed', 'passed']);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  describe('certificates', function () {
    const tmp = tempDir('md-check-certs-');
    const mesh = (sa: string, extra: object = {}) => issue(tmp.dir, 'mesh', { namespace: 'foo', serviceAccount: sa, notBefore: asn1(-1), notAfter: asn1(24 * 30), ...extra });
    before(function () {
      if (!opensslAvailable()) {
        console.log('    (skipped: openssl is not on PATH; the variants issue real certificates with it)');
        this.skip();
      }
    });
    after(() => tmp.remove());

    it('an expired workload certificate: MD5001 on the pod, certs to dig deeper, exit 3; the twin has no certificate error', async () => {
      const broken = variantSnapshot(tmp.dir, { [HTTPBIN]: await mesh('httpbin', { notBefore: asn1(-72), notAfter: asn1(-48) }), [SLEEP]: await mesh('sleep') });
      const r = await runCli(['check', '-A', '--from', broken, '-o', 'json']);
      expect(r.exitCode, r.stderr).to.equal(3);
      const validity = lineOf(jsonOf(r), 'md5001-certificate-validity');
      expect(validity.status).to.equal('error');
      expect(validity.culprits.map((c) => `${c.code} ${c.target}`)).to.deep.equal(['MD5001 Pod foo/httpbin-94fdb8c79-h9zrq']);
      expect(validity.culprits[0].next).to.equal('kubectl mesh-doctor certs httpbin-94fdb8c79-h9zrq.foo');
      const twin = jsonOf(await runCli(['check', '-A', '--from', variantSnapshot(tmp.dir, { [HTTPBIN]: await mesh('httpbin'), [SLEEP]: await mesh('sleep') }), '-o', 'json']));
      const certLines = twin.data.groups.find((g: { title: string }) => g.title === 'Certificates').checks as Line[];
      expect(certLines.filter((l) => l.status === 'error')).to.deep.equal([]);
      expect(certLines.filter((l) => l.status === 'passed').length).to.be.at.least(3);
    });

    it('a second root on one proxy: MD5003, exit 3', async () => {
      const snap = variantSnapshot(tmp.dir, { [HTTPBIN]: await mesh('httpbin'), [SLEEP]: await issue(tmp.dir, 'second', { namespace: 'foo', serviceAccount: 'sleep', notBefore: asn1(-1), notAfter: asn1(24 * 30) }) });
      const r = await runCli(['check', '-A', '--from', snap, '-o', 'json']);
      expect(r.exitCode, r.stderr).to.equal(3);
      expect(lineOf(jsonOf(r), 'md5003-root-mismatch').culprits.map((c) => `${c.code} ${c.target}`)).to.deep.equal(['MD5003 Pod foo/sleep-5b597748b4-77kj5']);
    });
  });
});
