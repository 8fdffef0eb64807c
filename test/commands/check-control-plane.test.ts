import { expect } from 'chai';
import { mkdir, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { jsonOf, runCli } from '../support/cli.js';
import { PROXY, recordSyncz, SCENARIO, syncz, withIstiod } from '../support/istiod.js';

/**
 * check's control plane and versions group: istiod's version (its image tag)
 * and revision against each proxy's (its bootstrap node's ISTIO_VERSION, here
 * 1.31-dev from the oracle's seed 003 scenario, and the revision that injected
 * it). The istiod Pod added to the snapshot is written as `kubectl get pods -o
 * yaml` shows one (container `discovery`, image `docker.io/istio/pilot:TAG`,
 * label `istio.io/rev`). Istio's policy: the control plane may be one minor
 * version ahead of the proxies, never behind.
 */


interface Line { rule: string; status: string; because?: string; culprits: Array<{ code: string; target: string; message: string }> }
const lines = (report: any): Line[] => report.data.groups.find((g: { title: string }) => g.title === 'Control plane and versions').checks;
const summary = (report: any) => lines(report).map((l) => `${l.rule} ${l.status}${l.culprits.map((c) => ` ${c.code} ${c.target}`).join('')}`);

describe('check: control plane and versions', function () {
  this.timeout(60_000);
  const dirs: string[] = [];
  after(async () => {
    for (const d of dirs) await rm(d, { recursive: true, force: true });
  });
  const check = async (tag: string, revision?: string) => {
    const dir = await withIstiod(tag, revision);
    dirs.push(dir);
    return runCli(['check', '-A', '--from', dir, '-o', 'json']);
  };

  it('a proxy ahead of istiod (1.31 against 1.29): MD7010 on the pod, exit 3', async () => {
    const r = await check('1.29.2');
    expect(r.exitCode, r.stderr).to.equal(3);
    expect(summary(jsonOf(r))).to.include(`md7010-version-skew error MD7010 ${PROXY}`);
    expect(lines(jsonOf(r))[0].culprits[0].message).to.contain('is ahead of istiod (1.29.2)');
  });

  it('a proxy two minor versions behind istiod (1.31 against 1.33): MD7010', async () => {
    const r = await check('1.33.0');
    expect(summary(jsonOf(r))).to.include(`md7010-version-skew error MD7010 ${PROXY}`);
    expect(lines(jsonOf(r))[0].culprits[0].message).to.contain('2 minor versions behind istiod (1.33.0)');
  });

  it('the healthy twins: the same minor, and istiod one ahead', async () => {
    for (const tag of ['1.31.0', '1.32.1']) {
      const r = await check(tag);
      expect(summary(jsonOf(r)).slice(0, 2), tag).to.deep.equal(['md7010-version-skew passed', 'md7011-revision-gone passed']);
    }
  });

  it('a proxy injected by a revision no istiod serves (only canary runs): MD7011', async () => {
    const r = await check('1.31.0', 'canary');
    expect(r.exitCode, r.stderr).to.equal(3);
    expect(summary(jsonOf(r))).to.include(`md7011-revision-gone error MD7011 ${PROXY}`);
  });

  const SAMPLE = 'sample-c59f744df-8kq7m.istio-demo';
  const withSync = async (json?: string) => {
    const dir = await withIstiod('1.31.0');
    dirs.push(dir);
    if (json !== undefined) await recordSyncz(dir, json);
    return jsonOf(await runCli(['check', '-A', '--from', dir, '-o', 'json']));
  };
  const syncLine = (report: any) => lines(report).find((l) => l.rule === 'md7012-istiod-sync')!;

  it("istiod's view: every push acknowledged, passed; a NACK, MD7012 error with Envoy's reason; a push not acknowledged, a warning", async () => {
    expect(syncLine(await withSync(syncz([{ proxy: SAMPLE }]))).status).to.equal('passed');
    const nack = syncLine(await withSync(syncz([{ proxy: SAMPLE, lds: { sent: 'c3d4', acked: 'b1e2', lastError: "Error adding/updating listener(s) virtualInbound: Didn't find a registered implementation for 'envoy.filters.http.lua_bad'" } }])));
    expect([nack.status, ...nack.culprits.map((c) => `${c.code} ${c.target}`)]).to.deep.equal(['error', `MD7012 ${PROXY}`]);
    expect(nack.culprits[0].message).to.contain("rejected istiod istio-system/istiod-7d9c6b7f8-x2k4q's LDS push (NACK): Error adding/updating listener(s) virtualInbound");
    const stale = syncLine(await withSync(syncz([{ proxy: SAMPLE, lds: { sent: 'c3d4', acked: 'b1e2' } }])));
    expect(stale.status).to.equal('warning');
    expect(stale.culprits[0].message).to.contain('latest LDS push (STALE)');
  });

  it('a proxy in no istiod\'s view: not connected, MD7012 error', async () => {
    const line = syncLine(await withSync(syncz([{ proxy: 'other-6f8d9c7b5-abcde.istio-demo' }])));
    expect([line.status, line.culprits[0]?.message]).to.deep.equal(['error', `No istiod serves ${SAMPLE}: it is in none of 1 istiod's /debug/syncz. It runs on its last config and gets no update (a revision with no istiod, a network policy, or a proxy that cannot reach istiod:15012).`]);
  });

  it("an istioctl bug-report's istio/<ns>/<istiod>/debug/syncz: read as the recorded command", async () => {
    // bug-report runs `pilot-discovery request GET debug/syncz` in istiod and writes the output under
    // istio/<ns>/<pod>/ by URL (tools/bug-report/pkg/bugreport GetIstiodInfo, pkg/archive IstiodPath).
    const dir = await withIstiod('1.31.0');
    dirs.push(dir);
    await mkdir(path.join(dir, 'istio/istio-system/istiod-7d9c6b7f8-x2k4q/debug'), { recursive: true });
    await writeFile(path.join(dir, 'istio/istio-system/istiod-7d9c6b7f8-x2k4q/debug/syncz'), syncz([{ proxy: SAMPLE, lds: { sent: 'c3d4', acked: 'b1e2', lastError: 'Error adding/updating listener(s) virtualInbound: rejected' } }]));
    const line = syncLine(jsonOf(await runCli(['check', '-A', '--from', dir, '-o', 'json'])));
    expect([line.status, ...line.culprits.map((c) => `${c.code} ${c.target}`)]).to.deep.equal(['error', `MD7012 ${PROXY}`]);
  });

  it("no recorded /debug/syncz: skipped, saying why — never passed", async () => {
    const line = syncLine(await withSync());
    expect(line.status).to.equal('skipped');
    expect(line.because).to.contain('recorded no /debug/syncz of Pod istio-system/istiod-7d9c6b7f8-x2k4q');
  });

  it('no istiod in the snapshot: both skipped, saying why', async () => {
    const r = await runCli(['check', '-A', '--from', SCENARIO, '-o', 'json']);
    const [skew, gone] = lines(jsonOf(r));
    expect([skew.status, gone.status]).to.deep.equal(['skipped', 'skipped']);
    expect(skew.because).to.contain('no istiod pod among the resources');
  });
});
