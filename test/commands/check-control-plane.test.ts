import { expect } from 'chai';
import { appendFile, cp, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { jsonOf, REPO_ROOT, runCli } from '../support/cli.js';

/**
 * check's control plane and versions group: istiod's version (its image tag)
 * and revision against each proxy's (its bootstrap node's ISTIO_VERSION, here
 * 1.31-dev from the oracle's seed 003 scenario, and the revision that injected
 * it). The istiod Pod added to the snapshot is written as `kubectl get pods -o
 * yaml` shows one (container `discovery`, image `docker.io/istio/pilot:TAG`,
 * label `istio.io/rev`). Istio's policy: the control plane may be one minor
 * version ahead of the proxies, never behind.
 */
const SCENARIO = path.join(REPO_ROOT, 'test/scenarios/seed003-se-no-addresses-tcp/snapshot');
const PROXY = 'Pod istio-demo/sample-c59f744df-8kq7m';

async function withIstiod(tag: string, revision = 'default'): Promise<string> {
  const dir = await mkdtemp(path.join(tmpdir(), 'md-check-cp-'));
  await cp(SCENARIO, dir, { recursive: true });
  await appendFile(path.join(dir, 'cluster/k8s-resources'), `
---
apiVersion: v1
kind: Pod
metadata:
  name: istiod-7d9c6b7f8-x2k4q
  namespace: istio-system
  labels:
    app: istiod
    istio.io/rev: ${revision}
spec:
  containers:
  - name: discovery
    image: docker.io/istio/pilot:${tag}
status:
  phase: Running
`);
  return dir;
}

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

  it('no istiod in the snapshot: both skipped, saying why', async () => {
    const r = await runCli(['check', '-A', '--from', SCENARIO, '-o', 'json']);
    const [skew, gone] = lines(jsonOf(r));
    expect([skew.status, gone.status]).to.deep.equal(['skipped', 'skipped']);
    expect(skew.because).to.contain('no istiod pod among the resources');
  });
});
