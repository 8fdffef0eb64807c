/**
 * Mocha helpers for suites on the mesh lab: start a scenario (and the test
 * cluster in front of it) once per suite, skip with one line saying why when
 * this machine cannot run the lab, and always tear down.
 */
import { expect } from 'chai';
import { kubectlAvailable } from '../cluster/kubectl.js';
import type { Levels } from '../cluster/envoy-admin.js';
import { parseLoggingText } from '../cluster/envoy-admin.js';
import { startE2E, type E2E } from '../support/e2e.js';
import { labUnavailable } from './host.js';
import { Lab, type LabPod } from './lab.js';
import { labToolsMissing } from './paths.js';
import { findScenario } from './scenarios.js';

let reason: Promise<string | undefined> | undefined;

/** Why lab suites cannot run here (said once per suite), or undefined. */
export function labSkipReason(): Promise<string | undefined> {
  reason ??= (async () => labToolsMissing() ?? (await labUnavailable()) ?? (kubectlAvailable() ? undefined : 'kubectl is not on PATH'))();
  return reason;
}

export interface LabSuite {
  lab: Lab;
  e2e: E2E;
}

/** In a describe(): a running scenario behind the test cluster for the suite's tests. */
export function useLab(scenarioName: string): LabSuite {
  const suite = {} as LabSuite;
  before(async function () {
    this.timeout(60_000);
    const why = await labSkipReason();
    if (why) {
      console.log(`    (skipped: ${why})`);
      this.skip();
    }
    const scenario = findScenario(scenarioName);
    if (!scenario) throw new Error(`no lab scenario ${scenarioName}`);
    suite.lab = await Lab.start(scenario);
    suite.e2e = await startE2E({ snapshotDir: suite.lab.generated.snapshot, lab: suite.lab.backend() });
  });
  after(async () => {
    await suite.e2e?.stop();
    await suite.lab?.stop();
  });
  return suite;
}

/** A sidecar's real log levels, read with the read-only POST /logging. */
export async function realLevels(lab: Lab, pod: LabPod): Promise<Levels> {
  const answer = await lab.admin(pod, 'POST', 'logging');
  expect(answer.status).to.equal(200);
  return Object.fromEntries(parseLoggingText(answer.body) ?? []);
}

/** Waits for a condition checked asynchronously (real Envoy state). */
export async function eventually(what: string, check: () => Promise<boolean>, timeoutMs = 30_000): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** The access-log lines (Istio's TEXT format starts with `[<time>] "`) a sidecar printed after `since` bytes of its log. */
export function accessLines(lab: Lab, pod: LabPod, since = 0): string[] {
  return lab.log(pod, 'istio-proxy').slice(since).split('\n').filter((l) => /^\[\d{4}-\d\d-\d\dT[^\]]+\] "/.test(l));
}
