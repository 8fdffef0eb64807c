import { expect } from 'chai';
import path from 'node:path';
import { jsonOf, REPO_ROOT, runCli } from '../support/cli.js';

const TWO_PODS = path.join(REPO_ROOT, 'test/fixtures/snapshots/two-pods');
const SEED004 = path.join(REPO_ROOT, 'test/scenarios/seed004-dr-tls-disable/snapshot');

/**
 * Bad input says what was expected and what was given, in one line, with the
 * same words and a suggestion under --json (issue: errors that carry their reason).
 */
async function expectUsage(args: string[], message: RegExp): Promise<void> {
  const human = await runCli(args);
  expect(human.exitCode, human.stderr).to.equal(2);
  const [first, ...rest] = human.stderr.trim().split('\n');
  expect(first).to.match(message);
  expect(rest.length).to.be.at.most(1);
  const json = await runCli([...args, '--json']);
  expect(json.exitCode).to.equal(2);
  const error = jsonOf(json).error;
  expect(`Error: ${error.message}`).to.equal(first);
  expect(error.suggestion).to.be.a('string').and.not.equal('');
}

describe('usage errors carry their reason', function () {
  // Up to eight CLI runs in one test: on a busy shared machine they outlast mocha's default.
  this.timeout(120_000);

  it('a missing required flag names the flag and what it is for', async () => {
    await expectUsage(['why-502', 'cart-5d9f.shop', '--from', TWO_PODS], /^Error: --host is required \(the Host the app sends\)/);
  });

  it('--port must be a number from 1 to 65535', async () => {
    for (const given of ['abc', '70000', '-1']) {
      await expectUsage(['who-owns-443', 'cart-5d9f.shop', '--from', TWO_PODS, '--port', given],
        new RegExp(`^Error: --port expects an integer from 1 to 65535, not "${given}"`));
    }
    await expectUsage(['listeners', 'cart-5d9f.shop', '--from', TWO_PODS, '--port', '0'], /^Error: --port expects an integer from 1 to 65535, not "0"/);
  });

  it('--concurrency 0 says the allowed range', async () => {
    await expectUsage(['pods', '--from', TWO_PODS, '--concurrency', '0'], /^Error: --concurrency expects an integer from 1 to 64, not "0"/);
  });

  it('a bad --timeout is rejected even with --from', async () => {
    await expectUsage(['pods', '--from', TWO_PODS, '--timeout', 'abc'], /^Error: --timeout takes a duration like 30s, 2m or 1m30s, not "abc"/);
  });

  it("a --timeout past Node's timer limit is rejected, not silently turned into 1ms", async () => {
    await expectUsage(['pods', '--from', TWO_PODS, '--timeout', '600h'], /^Error: --timeout is at most 24h, not "600h"/);
  });
});

describe('the same mistake, the same exit code', () => {
  it('an unknown pod and an unknown --to service are both not-found (exit 1)', async () => {
    const pod = await runCli(['why-503', 'nosuch.foo', '--from', SEED004, '--to', 'httpbin', '--json']);
    const service = await runCli(['why-503', 'sleep-5b597748b4-77kj5.foo', '--from', SEED004, '--to', 'nosuch', '--json']);
    expect(jsonOf(pod).error).to.include({ kind: 'not-found', exitCode: 1 });
    expect(jsonOf(service).error).to.include({ kind: 'not-found', exitCode: 1 });
    expect(pod.exitCode).to.equal(1);
    expect(service.exitCode).to.equal(1);
  });
});
