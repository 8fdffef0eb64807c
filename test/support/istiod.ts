import { appendFile, cp, mkdir, mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { REPO_ROOT } from './cli.js';

/** The oracle's seed 003 snapshot: one sidecar (Istio 1.31-dev). */
export const SCENARIO = path.join(REPO_ROOT, 'test/scenarios/seed003-se-no-addresses-tcp/snapshot');
export const PROXY = 'Pod istio-demo/sample-c59f744df-8kq7m';

/**
 * istiod's /debug/syncz as `pilot-discovery request GET /debug/syncz` prints
 * it, recorded in the istiod pod's probes/ (the snapshot's recorded-command
 * format). The shape is Istio's SyncStatus (pilot/pkg/xds/debug.go, its json
 * tags); nonces are what istiod writes (UUIDs), the NACK reason an Envoy
 * rejection as the mesh lab's Envoy 1.40 words one.
 */
const LDS = 'type.googleapis.com/envoy.config.listener.v3.Listener';
const CDS = 'type.googleapis.com/envoy.config.cluster.v3.Cluster';
export function syncz(proxies: Array<{ proxy: string; lds?: { sent: string; acked?: string; lastError?: string } }>): string {
  return JSON.stringify(proxies.map(({ proxy, lds = { sent: 'b1e2', acked: 'b1e2' } }) => ({
    cluster_id: 'Kubernetes', proxy, proxy_type: 'sidecar', istio_version: '1.31-dev',
    cluster_sent: 'a7f3', cluster_acked: 'a7f3', listener_sent: lds.sent, ...(lds.acked ? { listener_acked: lds.acked } : {}),
    resources: { [CDS]: { sent: 'a7f3', acked: 'a7f3', sentTime: '2026-12-05T10:00:00Z' }, [LDS]: { sent: lds.sent, ...(lds.acked ? { acked: lds.acked } : {}), sentTime: '2026-12-05T10:00:01Z', ...(lds.lastError ? { lastError: lds.lastError } : {}) } },
  })), null, 2);
}

export async function recordSyncz(dir: string, json: string): Promise<void> {
  const probes = path.join(dir, 'proxies/istio-system/istiod-7d9c6b7f8-x2k4q/probes');
  await mkdir(probes, { recursive: true });
  await writeFile(path.join(probes, 'syncz.txt'), `# command: pilot-discovery request GET /debug/syncz\n# container: discovery\n${json}\n`);
}

export async function withIstiod(tag: string, revision = 'default'): Promise<string> {
  const dir = await mkdtemp(path.join(tmpdir(), 'md-check-cp-'));
  await cp(SCENARIO, dir, { recursive: true });
  await appendFile(path.join(dir, 'cluster/k8s-resources'), `
---
apiVersion: v1
kind: Pod
metadata:
  name: istiod-7d9c6b7f8-x2k4q
  namespace: istio-system
  labels:
    app: istiod
    istio.io/rev: ${revision}
spec:
  nodeName: node-1
  containers:
  - name: discovery
    image: docker.io/istio/pilot:${tag}
status:
  phase: Running
`);
  return dir;
}
