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

export interface IstiodInstance {
  ref: ObjectRef;
  version?: string;
  /** `istio.io/rev`; `default` when unset. */
  revision: string;
  image: string;
}

export interface ProxyVersion {
  /** `name.namespace`. */
  pod: string;
  ref: ObjectRef;
  /** ISTIO_VERSION from the proxy's bootstrap node. */
  version?: string;
  /** The revision the pod was injected by (`sidecar.istio.io/status` or `istio.io/rev`); `default` when unset. */
  revision: string;
}

export interface ControlPlaneEvidence {
  istiods: IstiodInstance[];
  proxies: ProxyVersion[];
}

export function controlPlaneEvidence(evidence: ControlPlaneEvidence): EvidenceModel<ControlPlaneEvidence> {
  return {
    evidence,
    holds: (kind) => kind === 'Pod' && evidence.istiods.length > 0 && evidence.proxies.length > 0,
    absent: () => evidence.istiods.length === 0
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

export const CONTROL_PLANE_RULES = [versionSkew, revisionGone] as const;
