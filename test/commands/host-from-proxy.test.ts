import { expect } from 'chai';
import { cp, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { parse, stringify } from 'yaml';
import { jsonOf, REPO_ROOT, runCli } from '../support/cli.js';

/**
 * A host missing from the listed resources (a snapshot without that namespace's
 * Services, a Service the user may not list) is resolved from the proxy before
 * it is assumed external: the oracle's seed 003 scenario, whose sidecar has the
 * per-VIP listener 10.96.120.15_443 -> outbound|443||traefik.abc.svc.cluster.local,
 * with the Service traefik removed from the snapshot's resources.
 */
const SCENARIO = path.join(REPO_ROOT, 'test/scenarios/seed003-se-no-addresses-tcp/snapshot');
const POD = 'sample-c59f744df-8kq7m.istio-demo';
const HOST = 'traefik.abc.svc.cluster.local';

async function withoutService(name: string): Promise<string> {
  const dir = await mkdtemp(path.join(tmpdir(), 'md-host-'));
  await cp(SCENARIO, dir, { recursive: true });
  const file = path.join(dir, 'cluster/k8s-resources');
  const docs = (await readFile(file, 'utf8')).split(/^---$/m).filter((d) => d.trim());
  const kept = docs.filter((d) => !(parse(d).kind === 'Service' && parse(d).metadata.name === name));
  expect(kept.length).to.equal(docs.length - 1);
  await writeFile(file, kept.map((d) => stringify(parse(d))).join('---\n'));
  return dir;
}

describe('hosts resolved from the proxy before "assumed external"', function () {
  this.timeout(120_000);
  let dir: string;
  before(async () => {
    dir = await withoutService('traefik');
  });
  after(async () => rm(dir, { recursive: true, force: true }));

  it('why-https-fails: an in-mesh host missing from the resources takes its VIP from the sidecar\'s listener, the same path as with the Service', async () => {
    const full = jsonOf(await runCli(['why-https-fails', POD, '--host', HOST, '--from', SCENARIO, '-o', 'json']));
    const result = await runCli(['why-https-fails', POD, '--host', HOST, '--from', dir, '-o', 'json']);
    const partial = jsonOf(result);
    expect(partial.data.outcome).to.deep.equal(full.data.outcome);
    expect(partial.data.connection.destinationIp).to.equal('10.96.120.15');
    expect(partial.verdict.status).to.equal(full.verdict.status);
    const saw = partial.steps.flatMap((s: any) => s.saw).join('\n');
    expect(saw).to.contain('10.96.120.15_443');
    expect(saw).to.not.contain('assumed an external IP');
  });

  it('a host neither the resources nor the proxy know is "assumed external" at low confidence, never high', async () => {
    const result = await runCli(['why-https-fails', POD, '--host', 'nowhere.example.com', '--from', dir, '-o', 'json']);
    const report = jsonOf(result);
    expect(report.steps.flatMap((s: any) => s.saw).join('\n')).to.contain('assumed an external IP');
    expect(report.data.confidence).to.equal('low');
  });
});
