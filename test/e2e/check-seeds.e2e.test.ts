import { expect } from 'chai';
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { REPO_ROOT, runCli } from '../support/cli.js';
import { requireKubectl, startE2E, type E2E } from '../support/e2e.js';

/**
 * `check -A` live, through the real kubectl against the test cluster serving
 * each seed's snapshot, gives the lines `check -A --from` gives on the same
 * snapshot (offline parity, issue "check"), so each seed's culprit is found
 * live too and each healthy twin stays clean. The snapshots are Istio's own
 * generator's output for the seeds (test/scenarios/<name>/scenario.yaml) and, for
 * the access-log checks, the mesh lab's real sidecar log (test/fixtures/check/PROVENANCE.md).
 */
const SNAPSHOTS: Array<{ dir: string; culprit?: string; exit?: number }> = [
  // Current Istio only warns about an HTTP-named 443 (MD1004); 1.7 broke on it (test/commands/check.test.ts).
  { dir: 'test/scenarios/seed000-port-443-named-http/snapshot', culprit: 'MD1004 Service', exit: 0 },
  { dir: 'test/scenarios/seed000-port-443-named-http-healthy/snapshot' },
  { dir: 'test/fixtures/check/seed001-app-on-localhost', culprit: 'MD4003 Pod default/app-5f7b9c6d8-q7w2e' },
  { dir: 'test/fixtures/check/seed001-app-on-all-interfaces' },
  { dir: 'test/fixtures/check/seed002-registry-only-unregistered', culprit: 'MD2001 ConfigMap istio-system/istio' },
  { dir: 'test/fixtures/check/seed002-registry-only-unregistered-healthy' },
  { dir: 'test/scenarios/seed003-se-no-addresses-tcp/snapshot', culprit: 'MD1002 ServiceEntry abc/traefik-cutom-name' },
  { dir: 'test/scenarios/seed003-se-no-addresses-tcp-healthy/snapshot' },
  { dir: 'test/scenarios/seed004-dr-tls-disable/snapshot', culprit: 'MD1006 DestinationRule foo/httpbin' },
  { dir: 'test/scenarios/seed004-dr-tls-disable-healthy/snapshot' },
  // Istio 1.0: the mTLS requirement is a MeshPolicy (authentication.istio.io/v1alpha1), which live must read too.
  { dir: 'test/fixtures/why-503/seed004-istio-1.0-replica', culprit: 'MD1006 DestinationRule foo/httpbin' },
];

interface CheckLine { rule: string; status: string; culprits?: Array<{ code: string; target: string }> }

/** Each check's rule, status and culprits (code and target): what must not depend on where the evidence came from. */
function lines(stdout: string): string[] {
  const report = JSON.parse(stdout) as { data: { groups: Array<{ checks: CheckLine[] }> } };
  return report.data.groups.flatMap((g) => g.checks).map((c) => `${c.rule} ${c.status} ${(c.culprits ?? []).map((k) => `${k.code} ${k.target}`).join(', ')}`.trim());
}

/** --since reaching back to the snapshot's oldest recorded proxy log line (live reads only that window). */
function sinceCovering(snapshot: string): string[] {
  const logs = readdirSync(path.join(snapshot, 'proxies'), { recursive: true, encoding: 'utf8' })
    .filter((f) => f.endsWith('istio-proxy.log')).map((f) => path.join(snapshot, 'proxies', f));
  const times = logs.flatMap((f) => readFileSync(f, 'utf8').match(/\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}/g) ?? []).map((t) => Date.parse(`${t}Z`));
  return times.length === 0 ? [] : ['--since', `${Math.ceil((Date.now() - Math.min(...times)) / 3_600_000) + 1}h`];
}

describe('check -A live on the test cluster: the same lines as offline, each seed\'s culprit', function () {
  this.timeout(240_000);
  before(function () {
    requireKubectl(this);
  });

  for (const { dir, culprit, exit = culprit ? 3 : 0 } of SNAPSHOTS) {
    const name = dir.split('/').filter((d) => d !== 'snapshot').at(-1);
    it(`${name}: ${culprit ?? 'no culprit'}, exit ${exit}`, async () => {
      const snapshot = path.join(REPO_ROOT, dir);
      const offline = await runCli(['check', '-A', '--from', snapshot, '-o', 'json']);
      const e2e: E2E = await startE2E({ snapshotDir: snapshot });
      try {
        const live = await e2e.kubectl(['check', '-A', '-o', 'json', ...sinceCovering(snapshot)]);
        expect(live.exitCode, live.stderr).to.equal(offline.exitCode);
        expect(lines(live.stdout)).to.deep.equal(lines(offline.stdout));
        const found = lines(live.stdout).filter((l) => / (error|warning) /.test(l)).join('\n');
        if (culprit) expect(found).to.contain(culprit);
        else expect(found).to.equal('');
        expect(live.exitCode).to.equal(exit);
      } finally {
        await e2e.stop();
      }
    });
  }
});
