/**
 * A snapshot of many sidecar pods for the benchmarks: `pods` pods in 10
 * namespaces, each proxy's dump a hard link to one file (the CLI reads each as
 * its own file; the disk holds it once), the seed 003 replica's resources.
 */
import { linkSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';

/** The seed 003 replica (Istio 1.11, a catch-all on 0.0.0.0:443), test/fixtures/egress/PROVENANCE.md. */
export const SEED003_REPLICA = 'test/fixtures/egress/seed003-istio-1.11-catch-all';

export function buildSnapshot(root: string, dir: string, pods: number, dumpFile: string): void {
  rmSync(dir, { recursive: true, force: true });
  const items: string[] = [];
  for (let i = 0; i < pods; i++) {
    const ns = `team-${i % 10}`;
    const name = `app-${i}-7f9c8d`;
    items.push(`- apiVersion: v1
  kind: Pod
  metadata: {name: ${name}, namespace: ${ns}, labels: {app: app-${i}}}
  spec:
    nodeName: node-${i % 3}
    containers: [{name: app, image: app:1}, {name: istio-proxy, image: docker.io/istio/proxyv2:1.11.0}]
  status:
    phase: Running
    podIP: 10.244.${Math.floor(i / 250)}.${(i % 250) + 1}
    containerStatuses: [{name: app, ready: true}, {name: istio-proxy, ready: true}]`);
    const proxyDir = path.join(dir, 'proxies', ns, name);
    mkdirSync(proxyDir, { recursive: true });
    linkSync(dumpFile, path.join(proxyDir, 'config_dump?include_eds'));
  }
  mkdirSync(path.join(dir, 'cluster'), { recursive: true });
  writeFileSync(path.join(dir, 'cluster/k8s-resources'), `apiVersion: v1\nkind: List\nitems:\n${items.join('\n')}\n`);
  writeFileSync(path.join(dir, 'cluster/crs'), readFileSync(path.join(root, SEED003_REPLICA, 'cluster/crs'), 'utf8'));
}

