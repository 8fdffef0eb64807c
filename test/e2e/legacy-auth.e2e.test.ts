import { expect } from 'chai';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { jsonOf, REPO_ROOT, runCli } from '../support/cli.js';
import { requireKubectl, startE2E, verdictOf, type E2E } from '../support/e2e.js';

/**
 * A pre-1.6 mesh keeps its mTLS requirement in authentication.istio.io/v1alpha1
 * objects (MeshPolicy, Policy), which only such a cluster serves. Live, they must
 * be read as offline, so each diagnosis gives the same verdict on the same state.
 * The snapshot is seed 004 as it happened on Istio 1.0 (its PROVENANCE.md): the
 * oracle's config with the seed's MeshPolicy `default` (peers: [{mtls: {}}]).
 */
const PRE_16 = path.join(REPO_ROOT, 'test/fixtures/why-503/seed004-istio-1.0-replica');
const MODERN = path.join(REPO_ROOT, 'test/scenarios/seed004-dr-tls-disable/snapshot');

async function withCluster<T>(snapshotDir: string, run: (e2e: E2E) => Promise<T>): Promise<T> {
  const e2e = await startE2E({ snapshotDir });
  try {
    return await run(e2e);
  } finally {
    await e2e.stop();
  }
}

/** Each diagnosis that reads the server pod's resources, as run on the pre-1.6 snapshot (check -A: check-seeds.e2e.test.ts). */
const DIAGNOSES: Array<{ name: string; args: string[]; exit: number; says?: string }> = [
  {
    name: 'why-503',
    args: ['why-503', 'sleep-5b597748b4-77kj5.foo', '--to', 'httpbin:8000'],
    exit: 3,
    says: 'STRICT from the legacy MeshPolicy (mesh-wide)',
  },
  // why-403 reads the server's mTLS mode for the peer identity it can expect.
  { name: 'why-403', args: ['why-403', 'sleep-5b597748b4-77kj5.foo', '--to', 'httpbin:8000'], exit: 0 },
  // The snapshot has no sockets nor nat table for httpbin: inconclusive both ways.
  { name: 'why-inbound-fails', args: ['why-inbound-fails', 'httpbin-94fdb8c79-h9zrq.foo'], exit: 4 },
];

describe('end to end through the real kubectl: pre-1.6 MeshPolicy/Policy read live as offline', function () {
  this.timeout(180_000);
  before(function () {
    requireKubectl(this);
  });

  for (const { name, args, exit, says } of DIAGNOSES) {
    it(`${name}: the same verdict, findings and exit code live as offline`, async () => {
      const offline = await runCli([...args, '--from', PRE_16, '-o', 'json']);
      const live = await withCluster(PRE_16, (e2e) => e2e.kubectl([...args, '-o', 'json']));
      expect(live.exitCode, live.stderr).to.equal(exit);
      expect(verdictOf(live)).to.deep.equal(verdictOf(offline));
      if (says) expect(JSON.stringify(jsonOf(live).findings)).to.contain(says);
    });
  }

  it('snapshot -A of the pre-1.6 cluster keeps its MeshPolicy, and the snapshot gives the offline verdict', () => withCluster(PRE_16, async (e2e) => {
    const out = await mkdtemp(path.join(tmpdir(), 'md-legacy-snapshot-'));
    try {
      const target = path.join(out, 'snap');
      const captured = await e2e.kubectl(['snapshot', '-A', '--out', target, '--read-only']);
      expect(captured.exitCode, captured.stderr).to.equal(0);
      expect(await readFile(path.join(target, 'cluster/crs'), 'utf8')).to.match(/kind: MeshPolicy/);
      const [why503] = DIAGNOSES;
      const fromCapture = await runCli([...why503.args, '--from', target, '-o', 'json']);
      expect(JSON.stringify(jsonOf(fromCapture).findings)).to.contain(why503.says);
    } finally {
      await rm(out, { recursive: true, force: true });
    }
  }));

  it('a modern cluster, which serves no authentication.istio.io: one discovery look-up, still one listing of every kind', () => withCluster(MODERN, async (e2e) => {
    const live = await e2e.kubectl(['why-503', 'sleep-5b597748b4-77kj5.foo', '--to', 'httpbin:8000', '--verbose']);
    expect(live.exitCode, live.stderr).to.equal(3);
    // Asking kubectl for a kind the server lacks would fail the joined listing and list each kind on its own.
    const listings = live.stderr.split('\n').filter((line) => /^\$ kubectl (get \S+ --all-namespaces|api-resources)/.test(line));
    expect(listings).to.have.length(2);
    expect(listings.join('\n')).to.contain('kubectl api-resources --cached --api-group=authentication.istio.io -o name');
    expect(listings.join('\n')).to.match(/kubectl get pods,services,.*,requestauthentications\.security\.istio\.io --all-namespaces/);
    expect(e2e.cluster.journal.apiRequests().filter((e) => e.resource === 'meshpolicies' || e.resource === 'policies')).to.deep.equal([]);
  }));
});
