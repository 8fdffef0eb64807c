/**
 * Each lab run generates its scenario's config with the oracle (Istio's own
 * generator, tools/istio-oracle), with the mesh config's `accessLogFile` set
 * to /dev/stdout so the access-log config in every listener is Istio's own
 * (the committed snapshots are generated without it).
 */
import fs from 'node:fs';
import path from 'node:path';
import { parseAllDocuments } from 'yaml';
import { run } from './host.js';
import { labPaths, REPO_ROOT } from './paths.js';

export interface ScenarioProxy {
  namespace: string;
  name: string;
  ip: string;
  serviceAccount: string;
  labels: Record<string, string>;
  /** `gateway`: a router proxy (no istio-init, no app), else a sidecar. */
  kind?: 'gateway';
}

export interface ScenarioService {
  namespace: string;
  name: string;
  clusterIP?: string;
}

/** A kubernetes.io/tls Secret of the scenario: what a Gateway's credentialName names. */
export interface ScenarioSecret {
  namespace: string;
  name: string;
  /** base64, as the Secret's data holds them. */
  crt?: string;
  key?: string;
}

export interface GeneratedScenario {
  /** The oracle's snapshot of this run (cluster/, proxies/, versions). */
  snapshot: string;
  proxies: ScenarioProxy[];
  services: ScenarioService[];
  secrets: ScenarioSecret[];
  dumpOf(namespace: string, pod: string): string;
}

export const SCENARIOS_DIR = path.join(REPO_ROOT, 'test/scenarios');

export async function generateScenario(name: string, out: string): Promise<GeneratedScenario> {
  const scenarioDir = path.join(SCENARIOS_DIR, name);
  await run([labPaths().oracle, '-scenarios', SCENARIOS_DIR, '-out', out, '-only', name, '-bootstrap-template', labPaths().bootstrapTemplate, '-mesh-set', 'accessLogFile=/dev/stdout']);
  const snapshot = path.join(out, name, 'snapshot');
  const spec = parseAllDocuments(fs.readFileSync(path.join(scenarioDir, 'scenario.yaml'), 'utf8'))[0].toJS();
  const proxies: ScenarioProxy[] = spec.proxies.map((p: any) => ({ namespace: p.namespace, name: p.name, ip: p.ip, serviceAccount: p.serviceAccount ?? 'default', labels: p.labels ?? {}, ...(p.kind === 'gateway' ? { kind: 'gateway' } : {}) }));
  const services: ScenarioService[] = [];
  const secrets: ScenarioSecret[] = [];
  for (const file of fs.readdirSync(scenarioDir).filter((f) => f.endsWith('.yaml') && f !== 'scenario.yaml')) {
    for (const doc of parseAllDocuments(fs.readFileSync(path.join(scenarioDir, file), 'utf8'))) {
      const obj = doc.toJS();
      if (obj?.kind === 'Service') services.push({ namespace: obj.metadata.namespace ?? 'default', name: obj.metadata.name, clusterIP: obj.spec?.clusterIP });
      if (obj?.kind === 'Secret') secrets.push({ namespace: obj.metadata.namespace ?? 'default', name: obj.metadata.name, crt: obj.data?.['tls.crt'], key: obj.data?.['tls.key'] });
    }
  }
  return { snapshot, proxies, services, secrets, dumpOf: (ns, pod) => path.join(snapshot, 'proxies', ns, pod, 'config_dump?include_eds') };
}

