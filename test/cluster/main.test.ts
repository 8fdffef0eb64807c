import {expect} from 'chai';
import {execFile, spawn} from 'node:child_process';
import {dirname, join} from 'node:path';
import {fileURLToPath} from 'node:url';
import {kubectlAvailable} from './kubectl.js';

const here = dirname(fileURLToPath(import.meta.url));
const repo = join(here, '..', '..');

describe('test cluster CLI (node --import tsx test/cluster/main.ts <dir>)', function () {
  this.timeout(30_000);
  before(function () {
    if (!kubectlAvailable()) {
      // eslint-disable-next-line no-console
      console.log('    kubectl is not on PATH; skipping');
      this.skip();
    }
  });

  it('prints the export line, serves until SIGINT, then exits 0', async () => {
    const child = spawn(process.execPath, ['--import', 'tsx', 'test/cluster/main.ts', 'test/cluster/fixtures/basic'], {cwd: repo, stdio: ['ignore', 'pipe', 'pipe']});
    try {
      let out = '';
      const kubeconfig = await new Promise<string>((resolve, reject) => {
        child.stdout.on('data', (d) => {
          out += d;
          const m = /^export KUBECONFIG=(.+)$/m.exec(out);
          if (m) resolve(m[1]);
        });
        child.on('exit', () => reject(new Error(`exited early: ${out}`)));
      });
      const cache = /^export KUBECACHEDIR=(.+)$/m.exec(out)?.[1] ?? '';
      const pods = await new Promise<string>((resolve) => {
        execFile('kubectl', ['get', 'pods', '-n', 'foo', '-o', 'name'], {env: {...process.env, KUBECONFIG: kubeconfig, KUBECACHEDIR: cache}, timeout: 15_000}, (_e, stdout) => resolve(String(stdout)));
      });
      expect(pods.trim().split('\n')).to.deep.equal(['pod/httpbin-6d8f7c5b9-abcde', 'pod/sleep-7f9c8d6b5-x2k4p']);
      const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
      child.kill('SIGINT');
      expect(await exited).to.equal(0);
    } finally {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    }
  });
});
