import { expect } from 'chai';
import path from 'node:path';
import { check } from '../../src/diagnoses/check.js';
import { Guide } from '../../src/diagnoses/guide.js';
import { SnapshotSource } from '../../src/sources/snapshot.js';
import type { EvidenceSource, PodRef } from '../../src/sources/source.js';
import { REPO_ROOT } from '../support/cli.js';

/**
 * check's report follows the pods' order, not the order their evidence came
 * back in: under load, which proxy's read finishes first changed the order
 * of culprits between two runs on the same snapshot. The fixture is the seed
 * 003 replica (test/fixtures/egress), whose pods pick different winners.
 */
const SNAPSHOT = path.join(REPO_ROOT, 'test/fixtures/egress/seed003-istio-1.11-catch-all');

/** The snapshot, with one pod's reads held back `ms`. */
function slowFor(source: EvidenceSource, pod: string, ms: number): EvidenceSource {
  return new Proxy(source, {
    get(target, key, receiver) {
      const value = Reflect.get(target, key, receiver);
      if (key !== 'proxy' && key !== 'containerLog') return typeof value === 'function' ? value.bind(target) : value;
      return async (ref: PodRef, ...rest: unknown[]) => {
        if (ref.name === pod) await new Promise((r) => setTimeout(r, ms));
        return (value as (...a: unknown[]) => unknown).call(target, ref, ...rest);
      };
    },
  });
}

describe('check: the report does not depend on which proxy answers first', () => {
  it('the same groups, culprits and pods named whichever pod is slow', async () => {
    const reports: string[] = [];
    for (const slow of ['sample-c59f744df-8kq7m', 'reviews-v1-545db77b95-6xq4l']) {
      const source = await SnapshotSource.open(SNAPSHOT);
      try {
        const report = await check(new Guide(), slowFor(source, slow, 150), { allNamespaces: true, concurrency: 8 });
        reports.push(JSON.stringify({ groups: report.data!.groups, findings: report.findings.map((f) => [f.code, f.target]) }));
      } finally {
        await source.close();
      }
    }
    expect(reports[0]).to.equal(reports[1]);
  });
});
