import { expect } from 'chai';
import { spawn } from 'node:child_process';
import path from 'node:path';
import { resolvePodArgument } from '../../src/sources/pod-argument.js';
import type { EvidenceSource } from '../../src/sources/source.js';
import type { PodView } from '../../src/model/k8s/pods.js';
import { jsonOf, REPO_ROOT, runCli } from '../support/cli.js';

const TWO_PODS = path.join(REPO_ROOT, 'test/fixtures/snapshots/two-pods');
// Two sidecar pods in foo: httpbin-94fdb8c79-h9zrq and sleep-5b597748b4-77kj5.
const SEED004 = path.join(REPO_ROOT, 'test/scenarios/seed004-dr-tls-disable/snapshot');

/**
 * Runs the CLI on a pseudo terminal (util-linux `script`), waits for the
 * picker's question, then types `keys`. Returns what the terminal showed and
 * the exit code.
 */
function onTerminal(args: string[], keys: string[]): Promise<{ screen: string; exitCode: number }> {
  const command = [process.execPath, path.join(REPO_ROOT, 'bin/dev.js'), ...args].map((a) => `'${a}'`).join(' ');
  const child = spawn('script', ['-qfec', command, '/dev/null'], {
    cwd: REPO_ROOT,
    env: { ...process.env, NO_COLOR: '1', FORCE_COLOR: '0', COLUMNS: '120' },
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  let screen = '';
  let typed = false;
  const onData = (chunk: Buffer) => {
    screen += String(chunk);
    if (!typed && screen.includes('Which pod?')) {
      typed = true;
      // Key by key, as a person types; a lone ESC needs its own read to be a key.
      void (async () => {
        for (const key of keys) {
          await new Promise((r) => setTimeout(r, 300));
          child.stdin.write(key);
        }
      })();
    }
  };
  child.stdout.on('data', onData);
  child.stderr.on('data', onData);
  return new Promise((resolve) => {
    const timer = setTimeout(() => child.kill('SIGKILL'), 60_000);
    // The prompt library colours and moves the cursor whatever NO_COLOR says: compare the text.
    // eslint-disable-next-line no-control-regex
    child.on('close', (code) => { clearTimeout(timer); resolve({ screen: screen.replace(/\u001b\[[0-9;?]*[A-Za-z]/g, ''), exitCode: code ?? -1 }); });
  });
}

describe('the pod picker', () => {
  it('Ctrl-C leaves quietly with 130, not "unexpected failure"', async () => {
    const run = await onTerminal(['listeners', '--from', TWO_PODS, '-A'], ['\u0003']);
    expect(run.exitCode, run.screen).to.equal(130);
    expect(run.screen).not.to.match(/unexpected failure|Error:/);
  });

  it('Esc cancels the same way', async () => {
    const run = await onTerminal(['listeners', '--from', TWO_PODS, '-A'], ['\u001b']);
    expect(run.exitCode, run.screen).to.equal(130);
    expect(run.screen).not.to.match(/unexpected failure|Error:/);
  });

  it('typing filters the pods by any part of the name; Enter takes the one left', async () => {
    // Neither term starts a pod name: a list that jumps by first letters stays where it is.
    // Both pods are asked for, so the order of the list cannot make it pass.
    for (const [typed, pod] of [['kj5', 'sleep-5b597748b4-77kj5.foo'], ['zrq', 'httpbin-94fdb8c79-h9zrq.foo']]) {
      const run = await onTerminal(['listeners', '--from', SEED004, '-A'], [...typed, '\r']);
      expect(run.exitCode, run.screen).to.equal(0);
      expect(run.screen).to.contain(`Which pod? ${pod}`);
      expect(run.screen).to.contain('ADDRESSES');
    }
  });
});

describe('a pod named without its namespace, offline', () => {
  it('is found when exactly one pod in the snapshot has that name', async () => {
    const result = await runCli(['listeners', 'sleep-5b597748b4-77kj5', '--from', SEED004, '--json']);
    expect(result.exitCode, result.stderr).to.equal(0);
    expect(jsonOf(result).subject).to.contain('sleep-5b597748b4-77kj5.foo');
  });

  it('is a "did you mean" when several namespaces hold that name', async () => {
    const pods = ['a', 'b'].map((namespace) => ({ name: 'web-0', namespace, hasSidecar: true } as PodView));
    const source = {
      mode: 'snapshot', label: 'snapshot x', defaultNamespace: 'default',
      pods: async (ns?: string) => pods.filter((p) => ns === undefined || p.namespace === ns),
      pod: async () => { throw Object.assign(new Error('pod web-0.default is not in snapshot x'), { kind: 'not-found' }); },
    } as unknown as EvidenceSource;
    const error = await resolvePodArgument(source, 'web-0', { requireSidecar: true, interactive: false }).catch((e: Error) => e);
    expect((error as Error).message).to.match(/did you mean web-0\.a or web-0\.b\?/);
  });

  it('pods without -A that finds nothing in the default namespace says where the pods are', async () => {
    const result = await runCli(['pods', '--from', TWO_PODS]);
    expect(result.exitCode).to.equal(0);
    expect(result.stdout).to.contain('No pods in namespace default; 2 in other namespaces (shop): add -A or -n NAMESPACE.');
  });
});
