import { expect } from 'chai';
import path from 'node:path';
import { REPO_ROOT } from '../support/cli.js';
import { requireKubectl, startE2E } from '../support/e2e.js';

/**
 * why-403 live, through the real kubectl against the test cluster
 * (test/cluster/) serving each oracle scenario as a cluster: every verdict's
 * broken scenario and its healthy twin, culprit and exit code, read-only.
 */
const CLIENT = 'sleep-5b597748b4-77kj5.foo';
const CASES: Array<{ scenario: string; culprit: string }> = [
  { scenario: 'authz-deny-before-allow', culprit: 'MD6001 AuthorizationPolicy foo/deny-headers' },
  { scenario: 'authz-principals-plaintext', culprit: 'MD6002 AuthorizationPolicy foo/allow-sleep' },
  { scenario: 'authz-foreign-trust-domain', culprit: 'MD6003 AuthorizationPolicy foo/allow-sleep' },
  { scenario: 'authz-request-principals-no-requestauthn', culprit: 'MD6004 AuthorizationPolicy foo/require-jwt' },
  { scenario: 'authz-allow-nothing', culprit: 'MD6005 AuthorizationPolicy foo/allow-nothing' },
  { scenario: 'authz-custom-unknown-provider', culprit: 'MD6006 AuthorizationPolicy foo/ext-authz' },
];

const errors = (report: any) => report.findings.filter((f: any) => f.severity === 'error').map((f: any) => `${f.code} ${f.target.kind} ${f.target.namespace}/${f.target.name}`);

describe('end to end through the real kubectl: why-403', function () {
  this.timeout(120_000);
  before(function () {
    requireKubectl(this);
  });

  for (const c of CASES) {
    it(`${c.scenario}: ${c.culprit}, exit 3; the twin has none; nothing written to the cluster`, async () => {
      for (const [scenario, culprit] of [[c.scenario, c.culprit], [`${c.scenario}-healthy`, undefined]] as const) {
        const e2e = await startE2E({ snapshotDir: path.join(REPO_ROOT, 'test/scenarios', scenario, 'snapshot') });
        try {
          const r = await e2e.kubectl(['why-403', CLIENT, '--to', 'httpbin:8000', '--path', '/headers', '-o', 'json']);
          const report = JSON.parse(r.stdout);
          expect(report.source.mode, scenario).to.equal('live');
          if (culprit) {
            expect(r.exitCode, r.stderr).to.equal(3);
            expect(errors(report), scenario).to.deep.equal([culprit]);
          } else {
            expect(r.exitCode === 3, `${scenario}: ${r.stderr}`).to.equal(false);
            expect(errors(report), scenario).to.deep.equal([]);
          }
          // Live, the evidence names the commands a person would run.
          expect(report.steps[3].lookedAt.join('\n'), scenario).to.match(/pilot-agent request GET 'config_dump/);
          expect(e2e.cluster.journal.mutations(), scenario).to.deep.equal([]);
        } finally {
          await e2e.stop();
        }
      }
    });
  }
});
