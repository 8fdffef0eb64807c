import { expect } from 'chai';
import { rm } from 'node:fs/promises';
import path from 'node:path';
import { jsonOf, runCli } from '../support/cli.js';
import { requireKubectl, startE2E } from '../support/e2e.js';
import { recordSyncz, syncz, withIstiod } from '../support/istiod.js';

/**
 * check's istiod sync view live: through the real kubectl, `kubectl exec`
 * into the istiod pod runs `pilot-discovery request GET /debug/syncz` (the
 * test cluster answers with the snapshot's recorded output), and a NACK is
 * found as offline finds it.
 */
describe("check -A live: istiod's /debug/syncz through kubectl exec", function () {
  this.timeout(120_000);
  before(function () {
    requireKubectl(this);
  });

  it('a NACK in istiod\'s view: MD7012 on the pod, live as offline', async () => {
    const dir = await withIstiod('1.31.0');
    try {
      await recordSyncz(dir, syncz([{ proxy: 'sample-c59f744df-8kq7m.istio-demo', lds: { sent: 'c3d4', acked: 'b1e2', lastError: 'Error adding/updating listener(s) virtualInbound: rejected' } }]));
      const offline = jsonOf(await runCli(['check', '-A', '--from', dir, '-o', 'json']));
      const e2e = await startE2E({ snapshotDir: dir });
      try {
        const live = await e2e.kubectl(['check', '-A', '-o', 'json']);
        const line = (r: any) => r.data.groups[0].checks.find((c: { rule: string }) => c.rule === 'md7012-istiod-sync');
        expect(line(JSON.parse(live.stdout)), live.stdout).to.deep.include({ status: 'error' });
        expect(line(JSON.parse(live.stdout)).culprits.map((c: { target: string }) => c.target)).to.deep.equal(line(offline).culprits.map((c: { target: string }) => c.target));
        expect(line(JSON.parse(live.stdout)).culprits[0].evidence).to.contain('kubectl exec istiod-7d9c6b7f8-x2k4q -n istio-system -c discovery -- pilot-discovery request GET /debug/syncz');

        // snapshot records istiod's view as it read it live; check on that snapshot finds what live found.
        const out = path.join(dir, 'taken');
        const taken = await e2e.kubectl(['snapshot', '-A', '--out', out, '-o', 'json']);
        expect(JSON.parse(taken.stdout).data.istiod, taken.stdout).to.deep.equal([
          { namespace: 'istio-system', name: 'istiod-7d9c6b7f8-x2k4q', status: 'ok', file: 'proxies/istio-system/istiod-7d9c6b7f8-x2k4q/probes/syncz.txt' },
        ]);
        const fromTaken = jsonOf(await runCli(['check', '-A', '--from', out, '-o', 'json']));
        expect(line(fromTaken).culprits.map((c: { target: string; message: string }) => `${c.target} ${c.message}`))
          .to.deep.equal(line(JSON.parse(live.stdout)).culprits.map((c: { target: string; message: string }) => `${c.target} ${c.message}`));
      } finally {
        await e2e.stop();
      }
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
