import { expect } from 'chai';
import path from 'node:path';
import { REPO_ROOT } from '../support/cli.js';
import { requireKubectl, startE2E } from '../support/e2e.js';
import { GATEWAY, WHY_404_CASES } from '../commands/why-404-cases.js';

// Each gateway scenario served as a cluster (test/cluster) and diagnosed live through the real
// kubectl: the same culprit and exit code as offline, and nothing changed in the cluster.
describe('end to end through the real kubectl: why-404', function () {
  before(function () {
    requireKubectl(this);
  });

  for (const c of WHY_404_CASES) {
    for (const name of [c.name, `${c.name}-healthy`]) {
      it(`${name}${c.https ? ' (HTTPS)' : ''}: ${name === c.name ? `${c.code}, exit ${c.exit}` : 'healthy, exit 0'}`, async () => {
        const e2e = await startE2E({ snapshotDir: path.join(REPO_ROOT, 'test/scenarios', name, 'snapshot') });
        try {
          const [pod, namespace] = GATEWAY.split('.');
          const r = await e2e.kubectl(['why-404', pod, '-n', namespace, '--host', 'httpbin.example.com', '--path', '/status/200', ...(c.https ? ['--https'] : []), '-o', 'json']);
          const report = JSON.parse(r.stdout);
          expect(report.source.mode).to.equal('live');
          if (name === c.name) {
            expect(r.exitCode, r.stderr).to.equal(c.exit);
            expect(report.findings.map((f: { code: string }) => f.code)).to.deep.equal([c.code]);
            expect(report.findings[0].target).to.deep.equal(c.target);
          } else {
            expect(r.exitCode, r.stderr).to.equal(0);
            expect(report.findings).to.deep.equal([]);
          }
          expect(e2e.cluster.journal.mutations()).to.deep.equal([]);
        } finally {
          await e2e.stop();
        }
      });
    }
  }
});
