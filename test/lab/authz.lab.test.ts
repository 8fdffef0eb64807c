import { expect } from 'chai';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { accessLines, eventually, useLab } from './support.js';

/**
 * why-403 on real Envoys (issue 12): AuthorizationPolicy deny, and
 * allow-with-principals over plaintext, each beside its healthy twin. Real
 * traffic (the 403 the client gets, the line the server logs), the live
 * diagnosis through the real kubectl, and the broken ones snapshotted (both
 * pods) and diagnosed offline with the same culprit.
 */
const SLEEP = 'sleep-5b597748b4-77kj5.foo';
const SERVER = { ns: 'foo', pod: 'httpbin-94fdb8c79-h9zrq' };
const DIAGNOSE = ['why-403', SLEEP, '--to', 'httpbin:8000'];

const CASES: Array<{ scenario: string; saw: RegExp; logged: RegExp; culprit?: string; request?: object }> = [
  {
    scenario: 'authz-deny-before-allow',
    saw: /RBAC: access denied[\s\S]*< HTTP\/1\.1 403 Forbidden/,
    logged: /"GET \/headers HTTP\/1\.1" 403 - rbac_access_denied_matched_policy\[ns\[foo\]-policy\[deny-headers\]-rule\[1\]\] /,
    culprit: 'MD6001 AuthorizationPolicy foo/deny-headers',
  },
  { scenario: 'authz-deny-before-allow-healthy', saw: /< HTTP\/1\.1 200 OK/, logged: /"GET \/headers HTTP\/1\.1" 200 - via_upstream / },
  {
    scenario: 'authz-principals-plaintext',
    saw: /RBAC: access denied[\s\S]*< HTTP\/1\.1 403 Forbidden/,
    logged: /"GET \/headers HTTP\/1\.1" 403 - rbac_access_denied_matched_policy\[none\] .* inbound\|8080\|\| - 172\.17\.0\.14:8080 172\.17\.0\.13:\d+ - default$/,
    culprit: 'MD6002 AuthorizationPolicy foo/allow-sleep',
  },
  {
    scenario: 'authz-custom-provider-denies',
    saw: /< HTTP\/1\.1 403 Forbidden/,
    logged: /"GET \/headers HTTP\/1\.1" 403 UAEX ext_authz_denied .* inbound\|8080\|\| /,
    culprit: 'MD6008 AuthorizationPolicy foo/ext-authz',
  },
  {
    scenario: 'authz-tcp-deny',
    saw: /Empty reply from server/,
    logged: /"- - -" 0 - - rbac_access_denied_matched_policy\[ns\[foo\]-policy\[deny-foo-tcp\]-rule\[0\]\] .* inbound\|8080\|\| /,
    culprit: 'MD6001 AuthorizationPolicy foo/deny-foo-tcp',
    request: { tcp: true }, // a connection: nothing of the request to read from the line
  },
  { scenario: 'authz-tcp-deny-healthy', saw: /< HTTP\/1\.1 200 OK/, logged: /"- - -" 0 - - - "-" \d+ \d+ .* inbound\|8080\|\| / },
  { scenario: 'authz-custom-provider-denies-healthy', saw: /< HTTP\/1\.1 200 OK/, logged: /"GET \/headers HTTP\/1\.1" 200 - via_upstream / },
  { scenario: 'authz-principals-plaintext-healthy', saw: /< HTTP\/1\.1 200 OK/, logged: /"GET \/headers HTTP\/1\.1" 200 - via_upstream .* outbound_\.8000_\._\.httpbin\.foo\.svc\.cluster\.local default$/ },
];

const errors = (report: any) => report.findings.filter((f: any) => f.severity === 'error').map((f: any) => `${f.code} ${f.target.kind} ${f.target.namespace}/${f.target.name}`);

for (const c of CASES) {
  describe(`mesh lab: ${c.scenario} (real Envoy, why-403)`, function () {
    this.timeout(120_000);
    const s = useLab(c.scenario);

    it(`the request: the client sees ${c.culprit ? 'the denial' : '200'} and the server logs the real line`, async () => {
      const server = s.lab.pod(SERVER.ns, SERVER.pod);
      const mark = s.lab.log(server, 'istio-proxy').length;
      const r = await s.lab.sendTraffic();
      expect(`${r.stdout}\n${r.stderr}`).to.match(c.saw);
      await eventually('the server\'s access-log line', async () => accessLines(s.lab, server, mark).length > 0);
      expect(accessLines(s.lab, server, mark).join('\n')).to.match(c.logged);
    });

    it(`live through the real kubectl: ${c.culprit ?? 'healthy, exit 0'}`, async () => {
      const r = await s.e2e.kubectl([...DIAGNOSE, '-o', 'json']);
      expect(r.exitCode, r.stderr).to.equal(c.culprit ? 3 : 0);
      const report = JSON.parse(r.stdout);
      if (c.culprit) {
        expect(errors(report)).to.deep.equal([c.culprit]);
        // The verdict comes from the real 403 line, not only from the config.
        expect(report.data.denial.basis).to.equal('access-log');
        expect(report.data.request).to.include(c.request ?? { method: 'GET', path: '/headers', from: 'access-log' });
      } else {
        expect(report.verdict.status).to.equal('healthy');
      }
    });

    if (c.culprit) {
      it('snapshot of both pods, then offline: the same culprit from the same line', async () => {
        const dir = await mkdtemp(path.join(tmpdir(), 'md-lab-snap-'));
        try {
          const out = path.join(dir, 'snap.tar.gz');
          const snap = await s.e2e.kubectl(['snapshot', SLEEP, `${SERVER.pod}.${SERVER.ns}`, '--out', out]);
          expect(snap.exitCode, snap.stderr).to.equal(0);
          const offline = await s.e2e.kubectl([...DIAGNOSE, '--from', out, '-o', 'json']);
          expect(offline.exitCode, offline.stderr).to.equal(3);
          const report = JSON.parse(offline.stdout);
          expect(errors(report)).to.deep.equal([c.culprit]);
          expect(report.data.denial.basis).to.equal('access-log');
        } finally {
          await rm(dir, { recursive: true, force: true });
        }
      });
    }
  });
}
