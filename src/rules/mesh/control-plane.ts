/**
 * check's control plane and versions group: the istiod instances the cluster
 * runs (each with its version, from its image tag, and its revision) against
 * the version and revision of every proxy read. Istio's support policy
 * (istio.io, docs/releases/supported-releases, "Control Plane/Data Plane
 * Skew"): the control plane may be one minor version ahead of the data plane;
 * the data plane may not be ahead of the control plane. A proxy whose revision
 * no istiod serves gets no config at all once it restarts, and none updated
 * meanwhile.
 */
import semver from 'semver';
import { makeFinding } from '../../findings/make.js';
import type { Finding } from '../../findings/finding.js';
import type { ObjectRef } from '../../model/k8s/resources.js';
import type { EvidenceModel, Rule } from '../rule.js';
import type { ProxySync } from '../../model/istio/syncz.js';
import type { IstiodInstance } from '../../model/istio/istiod.js';

export type { IstiodInstance };

export interface ProxyVersion {
  /** `name.namespace`. */
  pod: string;
  ref: ObjectRef;
  /** ISTIO_VERSION from the proxy's bootstrap node. */
  version?: string;
  /** The revision the pod was injected by (`sidecar.istio.io/status` or `istio.io/rev`); `default` when unset. */
  revision: string;
}

/** One istiod's /debug/syncz, as read (or why not). */
export interface IstiodSync {
  istiod: ObjectRef;
  proxies?: ProxySync[];
  source: string;
  file?: string;
  why?: string;
}

export interface ControlPlaneEvidence {
  istiods: IstiodInstance[];
  proxies: ProxyVersion[];
  /** istiod's view of the proxies it serves, one per istiod pod (live; offline when the snapshot recorded it). */
  syncs?: IstiodSync[];
}

export function controlPlaneEvidence(evidence: ControlPlaneEvidence): EvidenceModel<ControlPlaneEvidence> {
  return {
    evidence,
    holds: (kind) => kind === 'istiod-sync'
      ? (evidence.syncs ?? []).some((s) => s.proxies)
      : kind === 'Pod' && evidence.istiods.length > 0 && evidence.proxies.length > 0,
    absent: (kinds) => kinds.includes('istiod-sync') && evidence.istiods.length > 0
      ? `istiod's /debug/syncz was not read: ${[...new Set((evidence.syncs ?? []).map((s) => s.why).filter(Boolean))].join('; ') || 'no istiod answered'}`
      : evidence.istiods.length === 0
        ? 'no istiod pod among the resources (the control plane is in a namespace that was not read, or the snapshot holds none)'
        : 'no proxy was read',
  };
}

const minorOf = (v: string | undefined) => (v ? semver.coerce(v) : null);

/** The istiod a proxy talks to: its revision's; with one version across istiods, that one. */
function istiodFor(e: ControlPlaneEvidence, proxy: ProxyVersion): IstiodInstance | undefined {
  const same = e.istiods.filter((i) => i.revision === proxy.revision && i.version);
  if (same.length) return same[0];
  const versions = new Set(e.istiods.map((i) => i.version).filter(Boolean));
  return versions.size === 1 ? e.istiods.find((i) => i.version) : undefined;
}

/** Why a proxy's version is outside what its istiod supports, or undefined. */
function unsupported(proxy: string, control: string): string | undefined {
  const p = minorOf(proxy);
  const c = minorOf(control);
  if (!p || !c || p.major !== c.major) return undefined;
  if (p.minor > c.minor) return `the proxy (${proxy}) is ahead of istiod (${control}): the data plane may not be newer than the control plane`;
  if (c.minor - p.minor > 1) return `the proxy (${proxy}) is ${c.minor - p.minor} minor versions behind istiod (${control}): the control plane may be only one ahead`;
  return undefined;
}

export const versionSkew: Rule<ControlPlaneEvidence> = {
  id: 'md7010-version-skew',
  code: 'MD7010',
  description: 'A proxy runs a version its istiod does not support',
  needs: [{ anyOf: ['Pod'] }],
  check(e): Finding[] {
    return e.proxies.flatMap((proxy) => {
      const istiod = istiodFor(e, proxy);
      const why = proxy.version && istiod?.version ? unsupported(proxy.version, istiod.version) : undefined;
      if (!why || !istiod) return [];
      return [makeFinding('MD7010', {
        message: `${proxy.pod}: ${why}. istiod ${istiod.ref.namespace}/${istiod.ref.name} (revision ${istiod.revision}) generates config the proxy may read differently, or not at all.`,
        target: proxy.ref,
        evidence: [
          { source: `kubectl exec ${proxy.ref.name} -n ${proxy.ref.namespace} -c istio-proxy -- pilot-agent request GET server_info`, excerpt: `ISTIO_VERSION: ${proxy.version}` },
          { source: `kubectl get pod ${istiod.ref.name} -n ${istiod.ref.namespace} -o jsonpath='{.spec.containers[0].image}'`, excerpt: istiod.image },
        ],
        remediation: { text: `Restart ${proxy.pod}'s workload so the injector gives it istiod's proxy version (${istiod.version}), or upgrade in steps of one minor version.`, command: `kubectl rollout restart deployment -n ${proxy.ref.namespace}` },
      })];
    });
  },
};

export const revisionGone: Rule<ControlPlaneEvidence> = {
  id: 'md7011-revision-gone',
  code: 'MD7011',
  description: 'A proxy belongs to a revision no istiod serves',
  needs: [{ anyOf: ['Pod'] }],
  check(e): Finding[] {
    const served = new Set(e.istiods.map((i) => i.revision));
    return e.proxies.filter((p) => !served.has(p.revision)).map((proxy) => makeFinding('MD7011', {
      message: `${proxy.pod} was injected by revision ${proxy.revision}, and no istiod serves that revision (running: ${[...served].join(', ')}): its proxy keeps its last config and gets no update; restarted, it gets none.`,
      target: proxy.ref,
      evidence: [{ source: `kubectl get pods -A -l app=istiod -L istio.io/rev`, excerpt: e.istiods.map((i) => `${i.ref.namespace}/${i.ref.name}  rev ${i.revision}  ${i.image}`).join('\n') }],
      remediation: { text: `Point ${proxy.ref.namespace} at a served revision (label istio.io/rev or istio-injection) and restart ${proxy.pod}'s workload, or bring back the istiod of revision ${proxy.revision}.`, command: `kubectl label namespace ${proxy.ref.namespace} istio.io/rev=${[...served][0]} --overwrite` },
    }));
  },
};

/**
 * MD7012: istiod's own view of a proxy (what `istioctl proxy-status` shows):
 * a push the proxy rejected (NACK, with Envoy's reason), a push not
 * acknowledged (STALE: stuck, or still in flight — a warning), or a proxy no
 * istiod serves (not connected: it runs on its last config). A proxy is
 * called not connected only when every istiod's view was read.
 */
export const istiodSync: Rule<ControlPlaneEvidence> = {
  id: 'md7012-istiod-sync',
  code: 'MD7012',
  description: "istiod reports a proxy out of sync: its config rejected (NACK), not acknowledged (STALE), or not connected",
  needs: [{ anyOf: ['istiod-sync'] }],
  check(e): Finding[] {
    const syncs = e.syncs ?? [];
    const everyIstiodRead = syncs.length > 0 && syncs.every((s) => s.proxies);
    return e.proxies.flatMap((proxy) => {
      const seen = syncs.flatMap((s) => (s.proxies ?? []).filter((p) => p.proxy === proxy.pod).map((p) => ({ sync: s, p })));
      if (seen.length === 0) return everyIstiodRead ? [notConnected(proxy, syncs)] : [];
      return seen.flatMap(({ sync, p }) => outOfSync(proxy, sync, p));
    });
  },
};

function syncEvidence(sync: IstiodSync, lines: string): Finding['evidence'][number] {
  return { source: sync.source, ...(sync.file ? { file: sync.file } : {}), excerpt: lines };
}

function outOfSync(proxy: ProxyVersion, sync: IstiodSync, p: ProxySync): Finding[] {
  const nacked = p.types.filter((t) => t.state === 'NACKED');
  const stale = p.types.filter((t) => t.state.startsWith('STALE'));
  if (!nacked.length && !stale.length) return [];
  const table = p.types.map((t) => `${t.type} ${t.state}${t.lastError ? `: ${t.lastError}` : ''}`).join('\n');
  const from = `istiod ${sync.istiod.namespace}/${sync.istiod.name}`;
  return [makeFinding('MD7012', {
    severity: nacked.length ? 'error' : 'warning',
    message: nacked.length
      ? `${proxy.pod} rejected ${from}'s ${nacked.map((t) => t.type).join(', ')} push (NACK): ${nacked[0]!.lastError}. It keeps serving its previous config for ${nacked.length > 1 ? 'these types' : 'that type'}.`
      : `${from} has not had ${proxy.pod}'s acknowledgement of its latest ${stale.map((t) => t.type).join(', ')} push (${stale[0]!.state}): the proxy may run on older config; a push in flight clears within seconds, a stuck one does not.`,
    target: proxy.ref,
    evidence: [syncEvidence(sync, table)],
    remediation: nacked.length
      ? { text: `Find what Envoy rejects in the reason above (an EnvoyFilter, a resource with a field this proxy version does not know) and fix it; kubectl mesh-doctor check -A names the rejected config per proxy (MD7001).`, command: `istioctl proxy-status ${proxy.pod}` }
      : { text: `Run it again; if it stays STALE, check ${proxy.pod}'s istio-proxy log for xDS errors and istiod's for push errors, and restart the pod to reconnect.`, command: `istioctl proxy-status ${proxy.pod}` },
  })];
}

function notConnected(proxy: ProxyVersion, syncs: IstiodSync[]): Finding {
  return makeFinding('MD7012', {
    message: `No istiod serves ${proxy.pod}: it is in none of ${syncs.length} istiod's /debug/syncz. It runs on its last config and gets no update (a revision with no istiod, a network policy, or a proxy that cannot reach istiod:15012).`,
    target: proxy.ref,
    evidence: syncs.map((s) => syncEvidence(s, `${(s.proxies ?? []).length} proxies connected: ${(s.proxies ?? []).slice(0, 5).map((p) => p.proxy).join(', ')}${(s.proxies ?? []).length > 5 ? ', ...' : ''}`)),
    remediation: { text: `Check ${proxy.pod}'s istio-proxy log for "connection refused"/"context deadline" to istiod:15012 and the istiod it should use (its revision); restarting the pod reconnects it.`, command: `kubectl logs ${proxy.ref.name} -n ${proxy.ref.namespace} -c istio-proxy | grep -i xds` },
  });
}

export const CONTROL_PLANE_RULES = [versionSkew, revisionGone, istiodSync] as const;
