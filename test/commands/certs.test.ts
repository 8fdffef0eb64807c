import { expect } from 'chai';
import { rmSync } from 'node:fs';
import path from 'node:path';
import { HTTPBIN, issue, LAB_MTLS, NOW, asn1, meshIssuer, opensslAvailable, requireOpenssl, SLEEP, tempDir, variantSnapshot } from '../support/cert-variants.js';
import { jsonOf, runCli } from '../support/cli.js';

const codes = (r: Awaited<ReturnType<typeof runCli>>) => jsonOf(r).findings.map((f: any) => `${f.code} ${f.target.kind} ${f.target.namespace}/${f.target.name}`);

describe('certs (offline)', () => {
  it('the real lab capture: both identities, issuer, expiry and one root, judged as of the capture; the two-day lab root is within --warn-days 7', async () => {
    const r = await runCli(['certs', '-A', '--from', LAB_MTLS]);
    expect(r.exitCode, r.stderr).to.equal(0);
    expect(r.stdout).to.match(/foo\s+httpbin-94fdb8c79-h9zrq\s+spiffe:\/\/cluster\.local\/ns\/foo\/sa\/httpbin\s+O=cluster\.local, CN=root\s+2026-12-06T09:58:37\.000Z\s+1\s+04:7D:D2:5F…/);
    expect(r.stdout).to.contain('spiffe://cluster.local/ns/foo/sa/sleep');
    expect(r.stdout).to.contain('Judged as of 2026-12-05T10:01:57.111Z');
    expect(r.stdout).to.contain('WARNING MD5002');
  });

  it('-o json: each proxy with its identity, root fingerprint and where it was read; healthy with --warn-days 1', async () => {
    const r = await runCli(['certs', '-A', '--from', LAB_MTLS, '--warn-days', '1', '-o', 'json']);
    expect(r.exitCode, r.stderr).to.equal(0);
    const report = jsonOf(r);
    expect(report.verdict.status).to.equal('healthy');
    expect(report.findings).to.deep.equal([]);
    expect(report.data.proxies.map((p: any) => [p.pod, p.identity, p.origin, p.root.slice(0, 11)])).to.deep.equal([
      ['httpbin-94fdb8c79-h9zrq', 'spiffe://cluster.local/ns/foo/sa/httpbin', 'config_dump', '04:7D:D2:5F'],
      ['sleep-5b597748b4-77kj5', 'spiffe://cluster.local/ns/foo/sa/sleep', 'config_dump', '04:7D:D2:5F'],
    ]);
  });

  it('one pod by name', async () => {
    const r = await runCli(['certs', 'httpbin-94fdb8c79-h9zrq.foo', '--from', LAB_MTLS, '-o', 'json']);
    expect(r.exitCode, r.stderr).to.equal(0);
    expect(jsonOf(r).data.proxies.map((p: any) => p.pod)).to.deep.equal(['httpbin-94fdb8c79-h9zrq']);
  });

  it('a proxy whose certificates cannot be read is named, and the run does not claim health for it', async () => {
    const tmp = tempDir('md-certs-');
    try {
      const snap = variantSnapshot(tmp.dir, {});
      for (const f of ['config_dump', 'certs']) rmSync(path.join(snap, SLEEP, f));
      const r = await runCli(['certs', '-A', '--from', snap, '--warn-days', '0', '-o', 'json']);
      const report = jsonOf(r);
      expect(report.verdict.status).to.not.equal('healthy');
      expect(report.data.proxies.find((p: any) => p.pod.startsWith('sleep')).error).to.match(/no certificates|no config dump/);
    } finally {
      tmp.remove();
    }
  });
});

describe('certs on broken variants of the lab capture (secrets replaced with certificates the lab CA issues now)', function () {
  const tmp = tempDir('md-certs-variants-');
  const mesh = meshIssuer(() => tmp.dir);
  before(function () {
    requireOpenssl(this);
  });
  after(() => tmp.remove());

  it('an expired workload certificate: MD5001 on the pod, exit 3', async () => {
    const snap = variantSnapshot(tmp.dir, { [HTTPBIN]: await mesh('httpbin', { notBefore: asn1(-72), notAfter: asn1(-48) }), [SLEEP]: await mesh('sleep') });
    const r = await runCli(['certs', '-A', '--from', snap, '-o', 'json', '--warn-days', '0']);
    expect(r.exitCode, r.stderr).to.equal(3);
    expect(codes(r)).to.deep.equal(['MD5001 Pod foo/httpbin-94fdb8c79-h9zrq']);
    expect(new Date(jsonOf(r).data.at).getTime()).to.be.greaterThan(NOW.getTime());
  });

  it('sleep trusts a second root: MD5003 on sleep, exit 3', async () => {
    const snap = variantSnapshot(tmp.dir, { [HTTPBIN]: await mesh('httpbin'), [SLEEP]: await issue(tmp.dir, 'second', { namespace: 'foo', serviceAccount: 'sleep', notBefore: asn1(-1), notAfter: asn1(24) }) });
    const r = await runCli(['certs', '-A', '--from', snap, '-o', 'json', '--warn-days', '0']);
    expect(r.exitCode, r.stderr).to.equal(3);
    expect(codes(r)).to.deep.equal(['MD5003 Pod foo/sleep-5b597748b4-77kj5']);
  });

  it('httpbin presents the identity of another service account: MD5004, exit 3', async () => {
    const snap = variantSnapshot(tmp.dir, { [HTTPBIN]: await mesh('default'), [SLEEP]: await mesh('sleep') });
    const r = await runCli(['certs', '-A', '--from', snap, '-o', 'json', '--warn-days', '0']);
    expect(r.exitCode, r.stderr).to.equal(3);
    expect(codes(r)).to.deep.equal(['MD5004 Pod foo/httpbin-94fdb8c79-h9zrq']);
    expect(jsonOf(r).findings[0].message).to.contain('service account default (the pod runs as httpbin)');
  });

  it('the healthy twin: fresh certificates from one root, nothing found', async () => {
    const snap = variantSnapshot(tmp.dir, { [HTTPBIN]: await mesh('httpbin'), [SLEEP]: await mesh('sleep') });
    const r = await runCli(['certs', '-A', '--from', snap, '-o', 'json', '--warn-days', '0']);
    expect(r.exitCode, r.stderr).to.equal(0);
    expect(codes(r)).to.deep.equal([]);
  });
});
