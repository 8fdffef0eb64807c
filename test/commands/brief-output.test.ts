import { expect } from 'chai';
import path from 'node:path';
import { parse as parseYaml } from 'yaml';
import { COMMANDS } from '../../src/commands.js';
import { jsonOf, REPO_ROOT, runCli } from '../support/cli.js';

const scenario = (name: string) => path.join(REPO_ROOT, 'test/scenarios', name, 'snapshot');

/** Every diagnosis on the repository's seed scenarios, as a person would run it. */
const SEED_RUNS: string[][] = [
  ['why-https-fails', 'sample-c59f744df-8kq7m.istio-demo', '--host', 'baidu.com', '--from', scenario('seed003-se-no-addresses-tcp')],
  ['why-https-fails', 'sample-c59f744df-8kq7m.istio-demo', '--host', 'baidu.com', '--from', scenario('seed003-sidecar-hides-external-se')],
  ['why-https-fails', 'web-6d4cf56db6-x2pnq.team-b', '--host', 'www.google.com', '--from', scenario('seed000-port-443-named-http')],
  ['why-https-fails', 'ubuntu-deployment-54bbd6f4ff-q9sdj.default', '--host', 'www.google.com', '--from', scenario('seed002-registry-only-se-sidecar-hidden')],
  ['why-503', 'sleep-5b597748b4-77kj5.foo', '--to', 'httpbin', '--from', scenario('seed004-dr-tls-disable')],
  ['why-503', 'sleep-5b597748b4-77kj5.foo', '--to', 'httpbin', '--from', scenario('seed004-dr-no-tls-automtls-off')],
  ['why-inbound-fails', 'app-5f7b9c6d8-q7w2e.default', '--from', scenario('seed001-inbound-original-dst')],
  ['who-owns-443', 'sample-c59f744df-8kq7m.istio-demo', '--from', scenario('seed003-se-no-addresses-tcp')],
  ['who-owns-443', '-A', '--from', scenario('seed003-se-no-addresses-tcp')],
  ['why-502', 'ubuntu-deployment-54bbd6f4ff-q9sdj.default', '--host', 'httpbin.org', '--path', '/ip', '--from', scenario('seed002-registry-only-unregistered')],
  ['iptables', 'app-5f7b9c6d8-q7w2e.default', '--from', scenario('seed001-inbound-original-dst')],
  ['why-403', 'sleep-5b597748b4-77kj5.foo', '--to', 'httpbin:8000', '--path', '/headers', '--from', scenario('authz-deny-before-allow')],
  ['why-403', 'sleep-5b597748b4-77kj5.foo', '--to', 'httpbin:8000', '--path', '/headers', '--from', scenario('authz-allow-nothing')],
  ['why-404', 'istio-ingressgateway-7d4f8b6c9-h5k2m.istio-system', '--host', 'httpbin.example.com', '--path', '/status/200', '--from', scenario('gw-vs-wrong-gateway-namespace')],
  ['why-404', 'istio-ingressgateway-7d4f8b6c9-h5k2m.istio-system', '--host', 'httpbin.example.com', '--path', '/status/200', '--from', scenario('gw-no-virtualservice')],
  ['certs', '-A', '--from', path.join(REPO_ROOT, 'test/fixtures/certs/lab-mtls')],
  ['why-mtls-fails', 'sleep-5b597748b4-77kj5.foo', '--to', 'httpbin:8000', '--from', path.join(REPO_ROOT, 'test/fixtures/certs/lab-mtls')],
  ['check', '-A', '--from', scenario('seed004-dr-tls-disable')],
  ['check', '-A', '--from', scenario('seed003-se-no-addresses-tcp')],
];

/** Commands that diagnose (every other command answers a question or manages the tool). */
const NOT_DIAGNOSES = new Set(['demo', 'docs', 'explain', 'listeners', 'logging', 'pods', 'snapshot', 'version']);

/** References to the project's own incident notes mean nothing to a user. */
const INTERNAL_REFERENCE = /\bseed \d|\bseed's\b|\bthe seed\b|\bincident \d/i;

const label = (args: string[]) => args.map((a) => a.replace(/^.*test\/scenarios\/([^/]+)\/snapshot$/, '$1').replace(REPO_ROOT, '')).join(' ');

describe('human output fits a screen; --details and JSON keep everything', function () {
  this.timeout(120_000);

  it('every diagnosis in the command map has a run on the seed scenarios here', () => {
    const diagnoses = Object.keys(COMMANDS).filter((id) => !NOT_DIAGNOSES.has(id));
    for (const id of diagnoses) expect(SEED_RUNS.map((r) => r[0]), `a seed run of ${id}`).to.include(id);
  });

  for (const args of SEED_RUNS) {
    it(`${label(args)}: at most 40 lines, the full evidence behind --details`, async () => {
      const brief = await runCli(args);
      const lines = brief.stdout.trimEnd().split('\n');
      expect(lines.length, brief.stdout).to.be.at.most(40);
      const report = jsonOf(await runCli([...args, '-o', 'json']));
      const details = (await runCli([...args, '--details'])).stdout;
      expect(details.split('\n').length).to.be.greaterThan(lines.length);
      // Every finding's code, culprit and fix is on the brief screen; its evidence excerpts under --details.
      for (const finding of report.findings) {
        expect(brief.stdout).to.contain(finding.code);
        // check's lines name each culprit and the command that digs deeper; the fix is the diagnosis' (and --details').
        if (args[0] !== 'check') expect(brief.stdout).to.contain(finding.remediation.text.split('\n')[0].slice(0, 60));
        for (const item of finding.evidence) expect(details).to.contain(item.excerpt.split('\n')[0]);
      }
      expect(brief.stdout).to.contain(report.verdict.summary.slice(0, 60));
      expect(details).not.to.match(INTERNAL_REFERENCE);
      expect(JSON.stringify(report)).not.to.match(INTERNAL_REFERENCE);
    });
  }

  it('a piece of evidence two findings share is shown once and referred to the second time', async () => {
    const details = (await runCli([...SEED_RUNS[4], '--details'])).stdout;
    expect(details.match(/\$ kubectl get destinationrule httpbin -n foo -o yaml\n\s+apiVersion/g)).to.have.length(1);
    expect(details).to.match(/kubectl get destinationrule httpbin -n foo -o yaml\s+\(shown above under MD3001\)/);
  });
});

describe('words for users', function () {
  // Eight CLI runs at once: on a busy shared machine they outlast mocha's default.
  this.timeout(120_000);

  it('help and explain speak of the product, not of the incidents it was built from', async () => {
    const outputs = await Promise.all([
      ...['who-owns-443', 'why-502', 'why-https-fails', 'why-503', 'why-inbound-fails', 'iptables', 'explain'].map((c) => runCli([c, '--help'])),
      runCli(['explain', 'UC', '503 UC', 'DC', 'direct_response', 'curl: (35) error:1408F10B:SSL routines:ssl3_get_record:wrong version number',
        'upstream connect error or disconnect/reset before headers. reset reason: connection termination', 'WRONG_VERSION_NUMBER', 'NO_ROUTE']),
    ]);
    for (const output of outputs) expect(output.stdout).not.to.match(INTERNAL_REFERENCE);
  });
});

describe('the evidence shows what the fix talks about', function () {
  // Eleven CLI runs in one test: on shared, loaded cores that passes 120 s with every answer right
  // (speed is measured in npm run bench, not here).
  this.timeout(600_000);

  it("a patch of the culprit names only fields its evidence shows, present or absent", async () => {
    let checked = 0;
    for (const args of SEED_RUNS) {
      const report = jsonOf(await runCli([...args, '-o', 'json']));
      for (const finding of report.findings) {
        const patch = finding.remediation.patch as string | undefined;
        // A new resource (with its own kind) is not a change of the culprit's fields.
        if (!patch || /^kind:/m.test(patch)) continue;
        const spec = (parseYaml(patch.replace(/^#.*$/gm, '')) as { spec?: Record<string, unknown> })?.spec ?? {};
        const evidence = finding.evidence.map((e: { excerpt: string }) => e.excerpt).join('\n');
        for (const field of Object.keys(spec)) {
          expect(evidence, `${finding.code}: the fix sets spec.${field}`).to.match(new RegExp(`\\b${field}\\b`));
          checked++;
        }
        // Each absent field is said once.
        for (const line of evidence.split('\n').filter((l: string) => l.startsWith('# (no '))) expect(evidence.split(line).length, line).to.equal(2);
      }
    }
    expect(checked).to.be.greaterThan(3);
  });
});
