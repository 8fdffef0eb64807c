import { expect } from 'chai';
import { execFile, execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { buildRelease, parsePlatforms, type Release } from '../../tools/release/build.js';
import { REPO_ROOT } from '../support/cli.js';

/**
 * The release the way users get it: `npm run release`'s single executable in
 * its archive, installed by the real krew (v0.4.3, built from the Go module
 * proxy) into a private KREW_ROOT, run by the real kubectl — and the CLI and
 * end-to-end suites run again against that installed binary.
 */
const KREW_VERSION = 'v0.4.3';
const TOOLS = path.join(REPO_ROOT, '.cache/tools');

function goAvailable(): boolean {
  try {
    execFileSync('go', ['version'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

/** krew and its manifest validator, built once into .cache/tools. */
function krewTools(): { krew: string; validate: string } {
  const tools = { krew: path.join(TOOLS, 'krew'), validate: path.join(TOOLS, 'validate-krew-manifest') };
  for (const [name, file] of [['krew', tools.krew], ['validate-krew-manifest', tools.validate]]) {
    if (!existsSync(file)) execFileSync('go', ['install', `sigs.k8s.io/krew/cmd/${name}@${KREW_VERSION}`], { env: { ...process.env, GOBIN: TOOLS }, stdio: 'pipe', cwd: tmpdir() });
  }
  return tools;
}

function run(file: string, args: string[], env: NodeJS.ProcessEnv = {}, timeout = 120_000): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(file, args, { env: { ...process.env, ...env }, timeout, maxBuffer: 64 << 20, cwd: REPO_ROOT }, (error, stdout, stderr) => {
      const code = error ? (typeof (error as { code?: unknown }).code === 'number' ? (error as { code: number }).code : 1) : 0;
      resolve({ code, stdout: String(stdout), stderr: String(stderr) });
    });
  });
}

describe('release: the single executable, installed by krew', function () {
  this.timeout(900_000);
  let release: Release;
  let work: string;
  let krewRoot: string;
  let env: NodeJS.ProcessEnv;

  before(async function () {
    if (process.platform !== 'linux' || process.arch !== 'x64') {
      console.log(`    (skipped: the release build here makes linux executables, and runs the native one: this is ${process.platform}-${process.arch})`);
      this.skip();
    }
    if (!goAvailable()) {
      console.log('    (skipped: go is not on PATH; the krew install test builds krew from the Go module proxy)');
      this.skip();
    }
    work = mkdtempSync(path.join(tmpdir(), 'md-release-'));
    release = await buildRelease({ platforms: parsePlatforms('linux-amd64,linux-arm64'), out: path.join(work, 'archives') });
    krewRoot = path.join(work, 'krew');
    env = { KREW_ROOT: krewRoot, PATH: `${path.join(krewRoot, 'bin')}${path.delimiter}${process.env.PATH}` };
  });
  after(() => {
    if (work) rmSync(work, { recursive: true, force: true });
  });

  it('plugin.yaml is what .krew.yaml renders with the archives built now (reproducible archives, real digests: not stale)', () => {
    expect(readFileSync(path.join(REPO_ROOT, 'plugin.yaml'), 'utf8'), 'run `npm run release` and commit plugin.yaml').to.equal(release.manifest);
    for (const [name, a] of release.archives) {
      expect(readFileSync(`${a.file}.sha256`, 'utf8')).to.equal(`${a.sha256}  ${name}\n`);
      const listing = execFileSync('tar', ['-tvzf', a.file], { encoding: 'utf8' });
      expect(listing).to.match(/^-rwxr-xr-x 0\/0 .* 1970-01-01 00:00 kubectl-mesh_doctor$/m);
      expect(listing).to.match(/^-rw-r--r-- 0\/0 .* 1970-01-01 00:00 LICENSE$/m);
    }
  });

  it("krew's own validator accepts the manifest", async () => {
    const dir = path.join(work, 'validate');
    execFileSync('mkdir', ['-p', dir]);
    writeFileSync(path.join(dir, 'mesh-doctor.yaml'), release.manifest);
    const result = await run(krewTools().validate, ['-manifest', path.join(dir, 'mesh-doctor.yaml'), '-skip-install']);
    expect(result.code, result.stderr).to.equal(0);
  });

  it('krew installs it from the archive; the real kubectl runs `kubectl mesh-doctor --version`, `version`, `docs` and `demo` from inside the binary', async () => {
    const archive = [...release.archives.values()].find((a) => a.file.endsWith('_linux_amd64.tar.gz'))!;
    // The manifest rendered now (the committed one is checked above): a stale plugin.yaml fails one test, not three.
    const manifest = path.join(work, 'mesh-doctor.yaml');
    writeFileSync(manifest, release.manifest);
    const install = await run(krewTools().krew, ['install', `--manifest=${manifest}`, `--archive=${archive.file}`], env);
    expect(install.code, install.stderr).to.equal(0);
    const version = await run('kubectl', ['mesh-doctor', '--version'], env);
    expect(version.stdout).to.match(/^mesh-doctor\/0\.1\.0 linux-x64 node-v20\./);
    const docs = await run('kubectl', ['mesh-doctor', 'docs', 'MD1002'], env);
    expect(docs.code, docs.stderr).to.equal(0);
    expect(docs.stdout).to.contain('# MD1002');
    const demo = await run('kubectl', ['mesh-doctor', 'demo', '-o', 'json'], env);
    expect(demo.code, demo.stderr).to.equal(0);
    expect(JSON.parse(demo.stdout).findings.map((f: any) => f.code)).to.include('MD1002');
    // The user's NODE_OPTIONS are not for this binary: a memory cap that would break a run is not applied to it.
    const withOptions = await run('kubectl', ['mesh-doctor', 'demo', '-o', 'json'], { ...env, NODE_OPTIONS: '--max-old-space-size=16' });
    expect(withOptions.code, withOptions.stderr).to.equal(0);
  });

  it('the CLI and end-to-end suites pass against the krew-installed binary', async () => {
    const plugin = path.join(krewRoot, 'bin', 'kubectl-mesh_doctor');
    expect(existsSync(plugin)).to.equal(true);
    const suites = ['test/commands/*.test.ts', 'test/e2e/*.test.ts'];
    const result = await run(process.execPath, [path.join(REPO_ROOT, 'node_modules/mocha/bin/mocha.js'), ...suites], { MESH_DOCTOR_PLUGIN: plugin }, 840_000);
    const summary = /(\d+) passed, (\d+) failed/.exec(result.stdout);
    expect(result.code, `${result.stdout.slice(-6000)}\n${result.stderr.slice(-2000)}`).to.equal(0);
    expect(Number(summary?.[1]), 'tests ran against the binary').to.be.greaterThan(100);
  });
});
