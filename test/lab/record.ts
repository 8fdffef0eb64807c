/**
 * Records the real lines each lab scenario produces, for unit tests:
 *
 *   npm run lab:record                    # every scenario (root, the lab's tools installed)
 *   npm run lab:record -- NAME [NAME...]  # only these
 *
 * For each scenario: every sidecar's loggers connection, conn_handler, router
 * and pool go to debug, the scenario's request is sent once, and what each
 * sidecar printed from then on (access log and Envoy's debug lines) is
 * written to test/fixtures/lab/<scenario>/<namespace>.<pod>.istio-proxy.log,
 * with what the client saw in client.txt. test/fixtures/lab/PROVENANCE.md says
 * where these come from.
 */
import fs from 'node:fs';
import path from 'node:path';
import { labUnavailable } from './host.js';
import { Lab } from './lab.js';
import { labToolsMissing, REPO_ROOT } from './paths.js';
import { SCENARIOS } from './scenarios.js';

const OUT = path.join(REPO_ROOT, 'test/fixtures/lab');
const LOGGERS = 'connection:debug,conn_handler:debug,router:debug,pool:debug,rbac:debug';

const why = labToolsMissing() ?? (await labUnavailable());
if (why) {
  process.stderr.write(`lab:record: ${why}\n`);
  process.exit(1);
}
const only = process.argv.slice(2);
for (const scenario of SCENARIOS.filter((s) => only.length === 0 || only.includes(s.name))) {
  const lab = await Lab.start(scenario);
  try {
    const sidecars = lab.pods.filter((p) => p.envoy);
    for (const pod of sidecars) await lab.admin(pod, 'POST', `logging?paths=${LOGGERS}`);
    const marks = new Map(sidecars.map((p) => [p, lab.log(p, 'istio-proxy').length]));
    const seen = await lab.sendTraffic();
    await new Promise((r) => setTimeout(r, 500)); // access logs flush every 100 ms (--file-flush-interval-msec)
    const dir = path.join(OUT, scenario.name);
    fs.rmSync(dir, { recursive: true, force: true });
    fs.mkdirSync(dir, { recursive: true });
    const t = scenario.traffic;
    fs.writeFileSync(path.join(dir, 'client.txt'), `# ${t.pod}.${t.namespace} (${t.container}): ${t.argv.join(' ')}\n# exit: ${seen.exitCode}\n${seen.stdout}\n# --- stderr ---\n${seen.stderr}`);
    for (const pod of sidecars) {
      fs.writeFileSync(path.join(dir, `${pod.namespace}.${pod.name}.istio-proxy.log`), lab.log(pod, 'istio-proxy').slice(marks.get(pod)));
    }
    process.stdout.write(`recorded ${scenario.name}\n`);
  } finally {
    await lab.stop();
  }
}
