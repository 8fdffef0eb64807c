import { expect } from 'chai';
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { run, sweepStaleRuns } from './host.js';
import { Lab } from './lab.js';
import { REPO_ROOT } from './paths.js';
import { findScenario } from './scenarios.js';
import { labSkipReason } from './support.js';

/**
 * The lab cleans up only what it started, also after a kill, and never
 * changes the host's own network setup.
 */
async function hostNetwork(): Promise<string> {
  const parts = await Promise.all([
    run(['ip', '-o', 'link', 'show']),
    run(['ip', 'route', 'show', 'table', 'all']),
    run(['ip', 'rule', 'show']),
    run(['iptables-save']),
    run(['ip', 'netns', 'list']),
  ]);
  // Counters and timestamps move on their own; everything else must not.
  return parts.map((p) => p.stdout.replace(/\[\d+:\d+\]/g, '').replace(/^# .*$/gm, '')).join('\n---\n');
}

async function labNamespaces(id: string): Promise<string[]> {
  return (await run(['ip', 'netns', 'list'])).stdout.split('\n').map((l) => l.split(' ')[0]).filter((n) => n.startsWith(`mdlab-${id}-`));
}

describe('mesh lab: footprint and cleanup', function () {
  this.timeout(90_000);

  before(async function () {
    const why = await labSkipReason();
    if (why) {
      console.log(`    (skipped: ${why})`);
      this.skip();
    }
  });

  it('a run leaves the host exactly as it found it (links, routes, rules, iptables, namespaces)', async () => {
    const before = await hostNetwork();
    const lab = await Lab.start(findScenario('seed002-registry-only-unregistered')!);
    expect(await labNamespaces(lab.id)).to.have.length(lab.pods.length);
    await lab.stop();
    expect(await hostNetwork()).to.equal(before);
    expect(existsSync(lab.dir)).to.equal(false);
  });

  it('after a SIGKILL of the process that started it, the next start sweeps that run and nothing else', async () => {
    const other = 'mesh-doctor-test-not-the-labs';
    await run(['ip', 'netns', 'add', other]);
    const dir = mkdtempSync(path.join(tmpdir(), 'md-lab-kill-'));
    try {
      const ready = path.join(dir, 'ready');
      const child = spawn(process.execPath, ['--import', 'tsx', path.join(REPO_ROOT, 'test/lab/main.ts'), 'seed002-registry-only-unregistered', '--ready-file', ready], { cwd: REPO_ROOT, stdio: 'ignore' });
      const end = Date.now() + 60_000;
      while (!existsSync(ready) && Date.now() < end) await new Promise((r) => setTimeout(r, 100));
      const id = readFileSync(ready, 'utf8').trim();
      expect(await labNamespaces(id)).to.not.deep.equal([]);
      child.kill('SIGKILL');
      await new Promise((r) => child.on('exit', r));
      // Its Envoys and apps died with it (pdeathsig); its namespaces, bridge and files wait for a sweep.
      expect(await sweepStaleRuns()).to.include(id);
      expect(await labNamespaces(id)).to.deep.equal([]);
      expect((await run(['ip', '-o', 'link', 'show'])).stdout).to.not.contain(`mdlab${id}`);
      expect((await run(['ip', 'netns', 'list'])).stdout).to.contain(other);
    } finally {
      await run(['ip', 'netns', 'del', other], { reject: false });
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
