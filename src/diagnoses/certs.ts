/**
 * `certs`: each proxy's workload identity, issuer, expiry and trust root, and
 * across proxies what breaks mTLS before any traffic does: expired or
 * not-yet-valid certificates, roots about to end or renewals overdue, proxies
 * trusting different roots, identities that are not the pod's service account.
 * Each proxy is read once (its config dump's SDS secrets; `/certs` when the
 * dump holds none), through the source's bounded pool.
 */
import type { Finding } from '../findings/finding.js';
import { type CertificateView, daysLeft } from '../model/envoy/certificates.js';
import { parseConfigDump } from '../model/envoy/config-dump.js';
import { meshConfigFrom } from '../model/istio/mesh-config.js';
import type { PodView } from '../model/k8s/pods.js';
import { formatPod } from '../model/pod.js';
import { buildReport, type Report, type VerdictStatus } from '../report/report.js';
import { CERT_RULES, certsEvidence, proxyCertEvidence, type CertsEvidence, type ProxyCertEvidence } from '../rules/certs/index.js';
import { runRules } from '../rules/engine.js';
import type { EvidenceSource } from '../sources/source.js';
import type { Guide, StepRecorder } from './guide.js';
import { readProxyCertificates } from './read-dump.js';
import { findSidecarPods, podScopeTitle, type PodScope } from './sidecar-pods.js';

export interface CertsOptions extends PodScope {
  warnDays: number;
  /** The instant to judge validity at; default the snapshot's capture time, else now. */
  now?: Date;
}

export interface ProxyCertRow {
  namespace: string;
  pod: string;
  identity?: string;
  issuer?: string;
  notAfter?: string;
  daysLeft?: number;
  root?: string;
  rootNotAfter?: string;
  origin?: string;
  error?: string;
}

export interface CertsData {
  at: string;
  warnDays: number;
  proxies: ProxyCertRow[];
}

export async function certs(guide: Guide, source: EvidenceSource, options: CertsOptions): Promise<Report<CertsData>> {
  const now = options.now ?? (await source.capturedAt?.()) ?? new Date();
  const trustDomain = await guide.step('Read the mesh config (trust domain)', (step) => readTrustDomain(source, step));
  const pods = await guide.step(podScopeTitle(source, options), (step) => findSidecarPods(source, options, step));
  const proxies = await guide.step("Read each proxy's certificates", (step) => readCertificates(source, pods, step));
  const evidence: CertsEvidence = { proxies, now, warnDays: options.warnDays, trustDomain };
  const findings = await guide.step(`Check validity, renewal, roots and identities as of ${now.toISOString()}`, async (step) => check(guide, evidence, step));
  return certsReport(guide, source, options, evidence, findings);
}

async function readTrustDomain(source: EvidenceSource, step: StepRecorder): Promise<string> {
  const mesh = meshConfigFrom(await source.resources());
  step.looked('kubectl get configmap istio -n istio-system -o yaml');
  step.note(`trust domain ${mesh.trustDomain}`);
  return mesh.trustDomain;
}

/** One proxy's certificates: the dump's SDS secrets, else `/certs` (no PEM: no issuer or fingerprint). */
async function readProxy(source: EvidenceSource, pod: PodView): Promise<ProxyCertEvidence> {
  const ref = { namespace: pod.namespace, name: pod.name };
  try {
    const raw = await source.proxy(ref, 'config_dump');
    const dump = raw ? parseConfigDump(raw.text, `config_dump of ${formatPod(ref)}`) : undefined;
    const read = await readProxyCertificates(source, ref, { ...(dump ? { dump } : {}), ...(raw ? { cited: { source: raw.source, ...(raw.file ? { file: raw.file } : {}) } } : {}) });
    return proxyCertEvidence(pod, read?.certs, read?.file, 'no certificates in the config dump or /certs (SDS not served yet?)');
  } catch (error) {
    return proxyCertEvidence(pod, undefined, undefined, (error as Error).message);
  }
}

async function readCertificates(source: EvidenceSource, pods: PodView[], step: StepRecorder): Promise<ProxyCertEvidence[]> {
  const proxies = await Promise.all(pods.map((pod) => readProxy(source, pod)));
  const read = proxies.filter((p) => p.certs);
  step.looked(`kubectl exec <pod> -c istio-proxy -- pilot-agent request GET config_dump   (${read.length} of ${pods.length} pods)`);
  for (const p of proxies) if (p.error) step.note(`${formatPod(p.pod)}: ${p.error}`);
  for (const p of read) if (p.certs!.warming.length) step.note(`${formatPod(p.pod)}: SDS secret${p.certs!.warming.length > 1 ? 's' : ''} ${p.certs!.warming.join(', ')} still warming (not delivered)`);
  // A proxy that could not be read is not a ✔ (no false health).
  if (read.length < pods.length) step.status = 'failed';
  return proxies;
}

function check(guide: Guide, evidence: CertsEvidence, step: StepRecorder): Finding[] {
  const run = runRules(CERT_RULES, certsEvidence(evidence));
  for (const o of run.outcomes) if (o.status === 'skipped') guide.skip(o.rule, o.because ?? '', step);
  for (const f of run.findings) guide.report(f, step);
  return run.findings;
}

function row(p: ProxyCertEvidence, now: Date): ProxyCertRow {
  const leaf: CertificateView | undefined = p.certs?.chain[0];
  const root = p.certs?.roots[0];
  return {
    namespace: p.pod.namespace,
    pod: p.pod.name,
    ...(leaf ? { identity: leaf.spiffe?.uri ?? (leaf.subject || leaf.dnsNames.join(',')), issuer: leaf.issuer || undefined, notAfter: leaf.notAfter.toISOString(), daysLeft: daysLeft(leaf, now) } : {}),
    ...(root ? { root: root.fingerprint256 ?? `serial ${root.serial}`, rootNotAfter: root.notAfter.toISOString() } : {}),
    ...(p.certs ? { origin: p.certs.origin } : {}),
    ...(p.error ? { error: p.error } : {}),
  };
}

function certsReport(guide: Guide, source: EvidenceSource, options: CertsOptions, e: CertsEvidence, findings: Finding[]): Report<CertsData> {
  const read = e.proxies.filter((p) => p.certs);
  const errors = findings.filter((f) => f.severity === 'error');
  const status: VerdictStatus = errors.length ? 'problem' : read.length === 0 ? 'inconclusive' : 'healthy';
  const unread = e.proxies.length - read.length;
  const summary = errors.length
    ? `${errors.length} certificate problem${errors.length > 1 ? 's' : ''}: ${errors[0]!.title.toLowerCase()} (${errors[0]!.target.kind} ${errors[0]!.target.namespace ?? ''}/${errors[0]!.target.name})${unread ? `; ${unread} prox${unread > 1 ? 'ies' : 'y'} unread` : ''}.`
    : read.length === 0
      ? `No proxy's certificates could be read (${e.proxies.length} selected): nothing was checked.`
      : `${read.length} prox${read.length > 1 ? 'ies' : 'y'}: certificates valid, ${new Set(read.flatMap((p) => p.certs!.roots.map((r) => r.fingerprint256 ?? r.serial))).size > 1 ? 'roots differ' : 'one root'}, identities match their service accounts${findings.length ? `; ${findings.length} warning${findings.length > 1 ? 's' : ''}` : ''}${unread ? `; ${unread} prox${unread > 1 ? 'ies' : 'y'} not read, so not checked` : ''}.`;
  return buildReport({
    command: 'certs',
    subject: options.pod ? `pod ${formatPod(options.pod)}` : options.allNamespaces ? 'every namespace' : `namespace ${options.namespace ?? source.defaultNamespace}`,
    source,
    transcript: guide,
    verdict: { status: unread && status === 'healthy' ? 'inconclusive' : status, summary },
    data: { at: e.now.toISOString(), warnDays: e.warnDays, proxies: e.proxies.map((p) => row(p, e.now)) },
  });
}
