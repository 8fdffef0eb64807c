import { expect } from 'chai';
import { execFile } from 'node:child_process';
import path from 'node:path';
import { buildCliBundle, runJsNodeFlags } from '../../tools/build-cli.js';
import { REPO_ROOT, runCli, type CliResult } from '../support/cli.js';
import { requireKubectl } from '../support/e2e.js';

/**
 * `node bin/run.js`, the CLI an npm install runs, loads the one-file bundle
 * `npm run build` writes (bin/bundle.js) and not the compiled modules: it must
 * answer exactly as the CLI under test does, and start from the code cache.
 */
function runPacked(args: string[]): Promise<CliResult> {
  return new Promise((resolve) => {
    execFile(process.execPath, [path.join(REPO_ROOT, 'bin/run.js'), ...args], {
      cwd: REPO_ROOT,
      env: { ...process.env, NO_COLOR: '1', COLUMNS: '160', FORCE_COLOR: '0' },
      maxBuffer: 64 << 20,
    }, (error, stdout, stderr) => {
      const exitCode = error ? (typeof (error as { code?: unknown }).code === 'number' ? (error as { code: number }).code : 1) : 0;
      resolve({ stdout: String(stdout), stderr: String(stderr), exitCode });
    });
  });
}

const SNAPSHOT = 'test/scenarios/seed003-se-no-addresses-tcp/snapshot';
const CASES: string[][] = [
  ['explain', 'UC'],
  ['who-owns-443', 'sample-c59f744df-8kq7m.istio-demo', '--from', SNAPSHOT],
  ['who-owns-443', 'sample-c59f744df-8kq7m.istio-demo', '--from', SNAPSHOT, '-o', 'yaml'],
  ['why-503', 'sample-c59f744df-8kq7m.istio-demo', '--from', SNAPSHOT, '--details'],
  ['docs', 'MD1002'],
  ['--help'],
  ['who-owns-443', '--help'],
  ['who-owns-443', 'nobody.nowhere', '--from', SNAPSHOT],
  ['who-owns-443', '--from', '/nonexistent/snapshot', 'x'],
  ['explain', '--bogus'],
];

describe('node bin/run.js: the packed CLI, from its bundle', function () {
  this.timeout(300_000);

  before(async () => {
    await buildCliBundle(REPO_ROOT);
  });

  for (const args of CASES) {
    it(`answers \`${args.join(' ')}\` as the CLI under test does`, async () => {
      const [packed, reference] = await Promise.all([runPacked(args), runCli(args)]);
      expect(packed.stderr).to.equal(reference.stderr);
      expect(packed.stdout).to.equal(reference.stdout);
      expect(packed.exitCode).to.equal(reference.exitCode);
    });
  }

  /** Whether V8 rejected the bundle's code cache in a Node started with `flags`. */
  function cacheRejected(flags: string[]): Promise<string> {
    const probe = "const { loadBundle } = await import('./bin/bundle.js'); process.stdout.write(String(loadBundle(process.cwd()).script.cachedDataRejected));";
    return new Promise<string>((resolve, reject) => {
      execFile(process.execPath, [...flags, '--input-type=module', '-e', probe], { cwd: REPO_ROOT }, (error, stdout) => (error ? reject(error) : resolve(stdout)));
    });
  }

  it('starts from the code cache (V8 accepts it under bin/run.js\'s flags)', async () => {
    expect(await cacheRejected(runJsNodeFlags(REPO_ROOT))).to.equal('false');
  });

  // V8 rejects a cache made under other flags: `node bin/run.js` (no shebang,
  // so no --max-semi-space-size) compiled the whole bundle on every start.
  it('starts from the code cache also as `node bin/run.js`, without the shebang\'s flags', async () => {
    expect(await cacheRejected([])).to.equal('false');
  });

  // The kubectl-proxy transport starts a watchdog process by its own file, which
  // a bundle does not have: `node bin/run.js` fell back to one kubectl exec per
  // call, silently (4.4x the ideal on who-owns-443 -A over 200 pods).
  it('sends its execs through one kubectl proxy, as the CLI under test does (the transport\'s end-to-end suite, against bin/run.js)', async function () {
    requireKubectl(this);
    const mocha = path.join(REPO_ROOT, 'node_modules/mocha/bin/mocha.js');
    const result = await new Promise<{ code: number; stdout: string }>((resolve) => {
      execFile(process.execPath, [mocha, 'test/e2e/exec-transport.e2e.test.ts'], {
        cwd: REPO_ROOT,
        env: { ...process.env, MESH_DOCTOR_PLUGIN: path.join(REPO_ROOT, 'bin/run.js') },
        maxBuffer: 64 << 20,
      }, (error, stdout) => resolve({ code: error ? 1 : 0, stdout: String(stdout) }));
    });
    expect(result.code, result.stdout.slice(-4000)).to.equal(0);
    expect(result.stdout).to.match(/[1-9]\d* passed, 0 failed/);
  });
});
