/**
 * The certificates benchmark (issue: certificates): `certs -A` on a snapshot
 * of 200 proxies, target under 2 s after reading. Each proxy is the mesh
 * lab's real httpbin config dump (test/fixtures/certs/lab-mtls): 200 pods of
 * namespace foo running as httpbin, so the identities match and the one
 * finding is the lab root's short life (MD5002). Measured in a fresh process on dist/ (bench/measure-certs.mjs):
 * reading (every proxy's config dump from disk, through the snapshot source)
 * and then the command's own work on what was read (parse, X.509, rules,
 * report), against the yardstick of a bare JSON.parse of the same 200 dumps.
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';

const PODS = 200;
type Row = [string, string, string, string];
const verdict = (ok: boolean) => (ok ? 'met' : '**missed**');

export function buildSnapshot(root: string, dir: string): void {
  rmSync(dir, { recursive: true, force: true });
  const fixture = path.join(root, 'test/fixtures/certs/lab-mtls');
  const dump = readFileSync(path.join(fixture, 'proxies/foo/httpbin-94fdb8c79-h9zrq/config_dump'), 'utf8');
  const pods: string[] = [];
  for (let i = 0; i < PODS; i++) {
    const ns = 'foo';
    const name = `httpbin-${i}-7f9c8d`;
    pods.push(`- {apiVersion: v1, kind: Pod, metadata: {name: ${name}, namespace: ${ns}}, spec: {serviceAccountName: httpbin, containers: [{name: app}, {name: istio-proxy}]}, status: {phase: Running}}`);
    mkdirSync(path.join(dir, 'proxies', ns, name), { recursive: true });
    writeFileSync(path.join(dir, 'proxies', ns, name, 'config_dump'), dump);
  }
  mkdirSync(path.join(dir, 'cluster'), { recursive: true });
  writeFileSync(path.join(dir, 'cluster/k8s-resources'), `apiVersion: v1\nkind: List\nitems:\n${pods.join('\n')}\n`);
  writeFileSync(path.join(dir, 'meta.json'), readFileSync(path.join(fixture, 'meta.json'), 'utf8'));
}

const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]!;

export function certsBenchmarks(options: { root: string; out: string; runs: number }): Row[] {
  const dir = path.join(options.out, 'certs-200');
  buildSnapshot(options.root, dir);
  const runs = Array.from({ length: options.runs }, () => JSON.parse(execFileSync(process.execPath, [path.join(options.root, 'bench/measure-certs.mjs'), dir], { cwd: options.root }).toString()) as { readMs: number; certsMs: number; parseMs: number; proxies: number; findings: number });
  const read = median(runs.map((r) => r.readMs));
  const work = median(runs.map((r) => r.certsMs));
  const parse = median(runs.map((r) => r.parseMs));
  console.log(`certs -A on ${PODS} proxies: reading ${read.toFixed(0)} ms, then ${work.toFixed(0)} ms (JSON.parse of the same dumps: ${parse.toFixed(0)} ms)`);
  return [[
    `\`certs -A\` on a snapshot of ${PODS} proxies (the lab's real dump each), after reading`,
    `${work.toFixed(0)} ms after ${read.toFixed(0)} ms of reading = ${(work / parse).toFixed(2)}x a bare JSON.parse of the same dumps (${parse.toFixed(0)} ms); ${runs[0]!.proxies} proxies, ${runs[0]!.findings} finding(s)`,
    '< 2 s',
    verdict(work < 2000),
  ]];
}
