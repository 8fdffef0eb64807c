/**
 * `npm run lab -- <scenario>`: starts a mesh-lab scenario behind the test
 * cluster, prints how to point kubectl at it and what to try, and tears
 * everything down on Ctrl-C (or SIGTERM). `npm run lab` alone lists the
 * scenarios. Needs root on Linux (network namespaces, iptables).
 */
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { startTestCluster } from '../cluster/server.js';
import { labUnavailable } from './host.js';
import { Lab } from './lab.js';
import { labToolsMissing, REPO_ROOT } from './paths.js';
import { findScenario, SCENARIOS } from './scenarios.js';

function fail(message: string): never {
  process.stderr.write(`lab: ${message}\n`);
  process.exit(1);
}

const [name, ...rest] = process.argv.slice(2);
const readyFile = rest[0] === '--ready-file' ? rest[1] : undefined;
if (!name) {
  process.stdout.write('usage: npm run lab -- <scenario>\n\nscenarios:\n');
  for (const s of SCENARIOS) process.stdout.write(`  ${s.name.padEnd(44)} ${s.description}\n`);
  process.exit(0);
}
const scenario = findScenario(name) ?? fail(`no scenario ${name} (npm run lab lists them)`);
const why = labToolsMissing() ?? (await labUnavailable());
if (why) fail(why);

const lab = await Lab.start(scenario);
const cluster = await startTestCluster({ snapshotDir: lab.generated.snapshot, lab: lab.backend() });
// kubectl finds plugins on PATH: a kubectl-mesh_doctor that runs this checkout, as krew would install it.
const bin = mkdtempSync(path.join(tmpdir(), 'mesh-doctor-lab-bin-'));
writeFileSync(path.join(bin, 'kubectl-mesh_doctor'), `#!/bin/sh\nexec "${process.execPath}" "${path.join(REPO_ROOT, 'bin/dev.js')}" "$@"\n`);
chmodSync(path.join(bin, 'kubectl-mesh_doctor'), 0o755);

let stopping = false;
async function stop(code: number): Promise<void> {
  if (stopping) return;
  stopping = true;
  process.stderr.write('\nlab: tearing down...\n');
  await cluster.stop();
  await lab.stop();
  rmSync(bin, { recursive: true, force: true });
  process.exit(code);
}
process.on('SIGINT', () => void stop(130));
process.on('SIGTERM', () => void stop(143));

process.stdout.write([
  `lab ${scenario.name}: ${scenario.description}`,
  `pods: ${lab.pods.map((p) => `${p.name}.${p.namespace} (${p.ip}${p.envoy ? ', sidecar' : ''})`).join(', ')}`,
  '',
  'In another shell:',
  `  export KUBECONFIG=${cluster.kubeconfigPath} KUBECACHEDIR=${cluster.env.KUBECACHEDIR} PATH=${bin}:$PATH LAB_CA=${lab.caRoot}`,
  ...scenario.try.map((t) => `  ${t}`),
  '',
  'Ctrl-C here tears the lab down.',
  '',
].join('\n'));
if (readyFile) writeFileSync(readyFile, `${lab.id}\n`);
