import { expect } from 'chai';
import { cp, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { parseAllDocuments, stringify } from 'yaml';
import { jsonOf, REPO_ROOT, runCli } from '../support/cli.js';

/**
 * One rule names the workload a finding blames for a pod (src/model/k8s/workload.ts):
 * the owner by ownerReferences (a ReplicaSet with the pod-template-hash is its
 * Deployment), the Pod itself when it has none — whatever its name looks like.
 * Each case is run twice, on the fixture as recorded (owned by a ReplicaSet) and on a
 * copy whose pod has no ownerReferences, and every finding naming a workload names
 * the same kind for the same pod, whichever command and rule found it.
 */
interface Case {
  args: string[];
  fixture: string;
  pod: { namespace: string; name: string };
  /** The codes that name the pod's workload. */
  codes: string[];
}

const INBOUND = path.join(REPO_ROOT, 'test/fixtures/inbound');
const WHY_503 = path.join(REPO_ROOT, 'test/fixtures/why-503');
const APP = { namespace: 'default', name: 'app-5f7b9c6d8-q7w2e' };
const HTTPBIN = { namespace: 'foo', name: 'httpbin-94fdb8c79-h9zrq' };

const CASES: Case[] = [
  { args: ['why-inbound-fails', 'app-5f7b9c6d8-q7w2e.default'], fixture: path.join(INBOUND, 'localhost-1.20'), pod: APP, codes: ['MD4001', 'MD4002'] },
  { args: ['why-inbound-fails', 'app-5f7b9c6d8-q7w2e.default'], fixture: path.join(INBOUND, 'iptables-loop-1.20'), pod: APP, codes: ['MD4005'] },
  { args: ['iptables', 'app-5f7b9c6d8-q7w2e.default'], fixture: path.join(INBOUND, 'iptables-loop-1.20'), pod: APP, codes: ['MD4005'] },
  { args: ['why-inbound-fails', 'app-5f7b9c6d8-q7w2e.default'], fixture: path.join(INBOUND, 'nothing-listening-1.20'), pod: APP, codes: ['MD4003'] },
  // The 503 side of an app that refuses connections: the same fix (its bind address), the same culprit.
  { args: ['why-503', 'sleep-5b597748b4-77kj5.foo', '--to', 'httpbin'], fixture: path.join(WHY_503, 'uf-connection-refused'), pod: HTTPBIN, codes: ['MD3004'] },
];

/** A copy of a snapshot whose pod has (owned) or lacks (bare) the ownerReferences a Deployment gives it. */
async function variant(fixture: string, pod: Case['pod'], owned: boolean): Promise<string> {
  const dir = await mkdtemp(path.join(tmpdir(), 'md-culprit-'));
  await cp(fixture, dir, { recursive: true });
  const file = path.join(dir, 'cluster/k8s-resources');
  const docs = parseAllDocuments(await readFile(file, 'utf8')).map((d) => d.toJS());
  const object = docs.find((d) => d?.kind === 'Pod' && d.metadata?.name === pod.name && d.metadata?.namespace === pod.namespace);
  expect(object, `${pod.name} in ${fixture}`).to.exist;
  const hash = pod.name.split('-').at(-2)!;
  const replicaSet = pod.name.slice(0, pod.name.lastIndexOf('-'));
  if (owned) {
    object.metadata.labels = { ...object.metadata.labels, 'pod-template-hash': hash };
    object.metadata.ownerReferences = [{ apiVersion: 'apps/v1', kind: 'ReplicaSet', name: replicaSet, controller: true }];
  } else {
    delete object.metadata.ownerReferences;
  }
  await writeFile(file, docs.map((d) => stringify(d)).join('---\n'));
  return dir;
}

describe('the culprit workload: one rule for every finding that names it', function () {
  this.timeout(180_000);

  for (const [owned, expected] of [[true, 'Deployment'], [false, 'Pod']] as const) {
    it(`a pod ${owned ? 'owned by a ReplicaSet of a Deployment' : 'without ownerReferences (its name still looks like a ReplicaSet\'s)'}: every finding names the ${expected}`, async () => {
      for (const c of CASES) {
        const dir = await variant(c.fixture, c.pod, owned);
        try {
          const report = jsonOf(await runCli([...c.args, '--from', dir, '-o', 'json']));
          const named = report.findings.filter((f: { code: string }) => c.codes.includes(f.code));
          expect(named.map((f: { code: string }) => f.code), `${c.args[0]} on ${path.basename(c.fixture)}`).not.to.be.empty;
          const name = owned ? c.pod.name.split('-').slice(0, -2).join('-') : c.pod.name;
          for (const f of named) {
            expect(f.target, `${f.code} from ${c.args[0]} on ${path.basename(c.fixture)}`).to.deep.equal({ kind: expected, namespace: c.pod.namespace, name });
          }
        } finally {
          await rm(dir, { recursive: true, force: true });
        }
      }
    });
  }
});
