import { expect } from 'chai';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { parse as parseYaml } from 'yaml';
import { jsonOf, REPO_ROOT, runCli } from '../support/cli.js';

const TWO_PODS = path.join(REPO_ROOT, 'test/fixtures/snapshots/two-pods');

/** A one-line error and a next step: never a stack trace. */
function expectCleanError(stderr: string, message: RegExp): void {
  const lines = stderr.trim().split('\n');
  expect(lines[0]).to.match(/^Error: /);
  expect(lines[0]).to.match(message);
  expect(lines.length).to.be.at.most(2);
  expect(stderr).not.to.match(/^\s+at /m);
}

describe('flags every command shares', () => {
  let work: string;
  let closedKubeconfig: string;
  before(async () => {
    work = await mkdtemp(path.join(tmpdir(), 'md-cli-'));
    // A cluster that refuses connections: port 1 on loopback has no listener.
    closedKubeconfig = path.join(work, 'closed.yaml');
    await writeFile(closedKubeconfig, [
      'apiVersion: v1', 'kind: Config',
      'clusters: [{name: c, cluster: {server: "http://127.0.0.1:1"}}]',
      'users: [{name: u, user: {}}]',
      'contexts: [{name: closed, context: {cluster: c, user: u, namespace: shop}}]',
      'current-context: closed', '',
    ].join('\n'));
  });
  after(async () => { await rm(work, { recursive: true, force: true }); });

  it('--from reads a snapshot; the default output is a table', async () => {
    const result = await runCli(['pods', '--from', TWO_PODS, '-A']);
    expect(result.exitCode).to.equal(0);
    expect(result.stdout).to.equal([
      'NAMESPACE  NAME       IP          SIDECAR  KIND',
      'shop       cart-5d9f  10.244.1.7  yes      sidecar',
      'shop       legacy-0   10.244.1.9  no       -',
      '',
    ].join('\n'));
  });

  it('-o json, --json and -o yaml print the same versioned report', async () => {
    const json = jsonOf(await runCli(['pods', '--from', TWO_PODS, '-n', 'shop', '-o', 'json']));
    const jsonFlag = jsonOf(await runCli(['pods', '--from', TWO_PODS, '-n', 'shop', '--json']));
    const yaml = parseYaml((await runCli(['pods', '--from', TWO_PODS, '-n', 'shop', '-o', 'yaml'])).stdout);
    expect(json.schema).to.equal('mesh-doctor.report/v1');
    expect(json.data.map((p: { name: string }) => p.name)).to.deep.equal(['cart-5d9f', 'legacy-0']);
    expect(jsonFlag).to.deep.equal(json);
    expect(yaml).to.deep.equal(json);
  });

  it('-o markdown writes a ticket-ready report', async () => {
    const result = await runCli(['pods', '--from', TWO_PODS, '-n', 'shop', '-o', 'markdown']);
    expect(result.exitCode).to.equal(0);
    expect(result.stdout).to.match(/^## mesh-doctor pods: namespace shop\n/);
    expect(result.stdout).to.contain('**Verdict (informational):** 1 of 2 pods carry a sidecar');
  });

  it('an unknown output format is a usage error (exit 2)', async () => {
    const result = await runCli(['pods', '--from', TWO_PODS, '-o', 'xml']);
    expect(result.exitCode).to.equal(2);
    expectCleanError(result.stderr, /Expected --output=xml to be one of: table, json, yaml, markdown/);
  });

  it('an unknown flag is a usage error (exit 2)', async () => {
    const result = await runCli(['pods', '--from', TWO_PODS, '--frm', 'x']);
    expect(result.exitCode).to.equal(2);
    expectCleanError(result.stderr, /Nonexistent flag: --frm/);
  });

  it('a bad --timeout is a usage error (exit 2)', async () => {
    const result = await runCli(['pods', '--kubeconfig', closedKubeconfig, '--timeout', 'soon']);
    expect(result.exitCode).to.equal(2);
    expectCleanError(result.stderr, /--timeout takes a duration like 30s/);
  });

  it('a missing --from path fails the run (exit 1) with a next step', async () => {
    const result = await runCli(['pods', '--from', path.join(work, 'missing')]);
    expect(result.exitCode).to.equal(1);
    expectCleanError(result.stderr, /snapshot .*missing does not exist/);
  });

  it('with --json a failure keeps its exit code and prints a JSON error', async () => {
    const result = await runCli(['pods', '--from', path.join(work, 'missing'), '--json']);
    expect(result.exitCode).to.equal(1);
    const body = jsonOf(result);
    expect(body.error).to.include({ kind: 'bad-snapshot', exitCode: 1 });
    const usage = await runCli(['pods', '--from', TWO_PODS, '--json', '-o', 'xml']);
    expect(usage.exitCode).to.equal(2);
    expect(jsonOf(usage).error.kind).to.equal('usage');
  });

  it('an unreachable cluster fails the run (exit 1) in one line, and --verbose shows each kubectl call', async () => {
    const result = await runCli(['pods', '--kubeconfig', closedKubeconfig, '--verbose', '--timeout', '20s']);
    expect(result.exitCode).to.equal(1);
    const errorLines = result.stderr.split('\n').filter((l) => !l.startsWith('$ '));
    expectCleanError(errorLines.join('\n'), /the cluster does not answer \(The connection to the server 127\.0\.0\.1:1 was refused/);
    expect(result.stderr).to.contain(`$ kubectl --kubeconfig ${closedKubeconfig} config view --minify -o json`);
    expect(result.stderr).to.contain(`$ kubectl --kubeconfig ${closedKubeconfig} get pods --all-namespaces -o json`);
  });

  it('--context names a kubeconfig context; an unknown one fails the run (exit 1) with a next step', async () => {
    const result = await runCli(['pods', '--kubeconfig', closedKubeconfig, '--context', 'nosuch']);
    expect(result.exitCode).to.equal(1);
    expectCleanError(result.stderr, /no usable Kubernetes context \(error: cannot locate context nosuch\)/);
    expect(result.stderr).to.contain('kubectl config use-context');
  });

  it('--version answers', async () => {
    const result = await runCli(['--version']);
    expect(result.exitCode).to.equal(0);
    expect(result.stdout).to.match(/^mesh-doctor\/\d+\.\d+\.\d+ /);
  });
});
