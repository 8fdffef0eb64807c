/**
 * MD5003: proxies that trust different roots cannot verify each other
 * (`CERTIFICATE_VERIFY_FAILED`, `TLSV1_ALERT_UNKNOWN_CA`). It happens after a
 * `cacerts` change without restarting workloads, between revisions or
 * clusters without a shared root (istio/istio#14516: "no logs anywhere").
 * The proxies are grouped by the set of roots they hold; the smaller groups
 * are the ones out of step, and their first pod is named.
 */
import { makeFinding } from '../../findings/make.js';
import { rootKey } from '../../model/envoy/certificates.js';
import { formatPod } from '../../model/pod.js';
import { type CertsRule, readProxies } from './evidence.js';
import { certificateEvidence } from './support.js';

type Read = ReturnType<typeof readProxies>[number];

function groupsByRoots(proxies: Read[]): Read[][] {
  const groups = new Map<string, Read[]>();
  for (const p of proxies.filter((x) => x.certs.roots.length > 0)) {
    const key = p.certs.roots.map(rootKey).sort().join(' + ');
    groups.set(key, [...(groups.get(key) ?? []), p]);
  }
  return [...groups.values()].sort((a, b) => b.length - a.length);
}

const named = (list: Read[]) => `${list.slice(0, 3).map((p) => formatPod(p.pod)).join(', ')}${list.length > 3 ? ` and ${list.length - 3} more` : ''}`;

export const rootMismatch: CertsRule = {
  id: 'md5003-root-mismatch',
  code: 'MD5003',
  description: 'Proxies trust different root certificates',
  needs: ['certificates'],
  unmet: (e) => readProxies(e).filter((p) => p.certs.roots.length > 0).length < 2 ? 'fewer than two proxies with a readable trust root to compare' : undefined,
  check(e) {
    const [majority, ...others] = groupsByRoots(readProxies(e));
    if (!majority || others.length === 0) return [];
    return others.map((group) => {
      const first = group[0]!;
      return makeFinding('MD5003', {
        message: `${group.length} prox${group.length === 1 ? 'y' : 'ies'} (${named(group)}) trust a different root than ${majority.length} other${majority.length === 1 ? '' : 's'} (${named(majority)}): mTLS between the two groups fails certificate verification (unknown CA).`,
        target: { kind: 'Pod', namespace: first.pod.namespace, name: first.pod.name },
        evidence: [
          certificateEvidence(first, first.certs.roots, `the root ${formatPod(first.pod)} trusts`, e.now),
          certificateEvidence(majority[0]!, majority[0]!.certs.roots, `the root ${formatPod(majority[0]!.pod)} and ${majority.length - 1} others trust`, e.now),
        ],
        remediation: {
          text: 'Give every proxy the same root: after a change of istio-system/cacerts, restart the workloads still holding the old root (kubectl rollout restart); across clusters or revisions, plug in certificates from one shared root. During a root rotation, both roots belong in the trust bundle.',
          command: `kubectl rollout restart deployment -n ${first.pod.namespace}`,
        },
      });
    });
  },
};
