// One run of the certificates benchmark in a fresh process (bench/certs.ts): read, then certs -A.
import { performance } from 'node:perf_hooks';
import { readFileSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { certs } from '../dist/diagnoses/certs.js';
import { Guide } from '../dist/diagnoses/guide.js';
import { SnapshotSource } from '../dist/sources/snapshot.js';

const dir = process.argv[2];
const source = await SnapshotSource.open(dir);
let start = performance.now();
for (const pod of (await source.pods()).filter((p) => p.hasSidecar)) await source.proxy({ namespace: pod.namespace, name: pod.name }, 'config_dump');
const readMs = performance.now() - start;
start = performance.now();
const report = await certs(new Guide(), source, { allNamespaces: true, warnDays: 7 });
const certsMs = performance.now() - start;
// The yardstick: JSON.parse of the same dumps, nothing else.
const files = readdirSync(path.join(dir, 'proxies'), { recursive: true }).filter((f) => String(f).endsWith('config_dump')).map((f) => readFileSync(path.join(dir, 'proxies', String(f)), 'utf8'));
start = performance.now();
for (const text of files) JSON.parse(text);
const parseMs = performance.now() - start;
await source.close();
process.stdout.write(JSON.stringify({ readMs, certsMs, parseMs, proxies: report.data.proxies.length, findings: report.findings.length }));
