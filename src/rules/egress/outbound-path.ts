/**
 * Pure rules over a simulated outbound connection: given where the sidecar
 * really sends it (src/model/outbound) and the resources, name what went
 * wrong and the resource to blame.
 *
 *   MD1001  TLS reached an HTTP connection manager: the port is treated as HTTP (incident 1)
 *   MD1002  a catch-all chain sent the connection to another service (incident 4)
 *   MD2001  REGISTRY_ONLY blocked a host no ServiceEntry registers (incident 3)
 *   MD2002  a ServiceEntry for the host exists but this pod's sidecar cannot see it (incidents 3 and 4)
 *
 * Evidence: the simulated path over the pod's config dump (the istioctl
 * listener line of the chain that took the connection), the resources
 * (kubectl get), and the mesh config.
 */
import { parseIstioClusterName } from '../../model/envoy/clusters.js';
import type { ConfigDump } from '../../model/envoy/config-dump.js';
import { formatListenerTable } from '../../model/envoy/listener-table.js';
import { formatRef, type ObjectRef, type ResourceSet } from '../../model/k8s/resources.js';
import type { PodView } from '../../model/k8s/pods.js';
import { hostMatches, kubectlGet, toYaml } from '../../model/istio/common.js';
import type { MeshConfigView } from '../../model/istio/mesh-config.js';
import { describeProtocol, isHttpFamily } from '../../model/istio/protocol.js';
import { serviceEntries, type ServiceEntryView } from '../../model/istio/service-entry.js';
import { services } from '../../model/istio/services.js';
import { sidecarFor, visibleTo } from '../../model/istio/sidecar.js';
import { httpOn443Breaks, networkingApiVersion, type IstioVersion } from '../../model/istio/version-behaviour.js';
import { ownersOfChain } from '../../model/owner.js';
import { absentFields } from '../mesh/support.js';
import { describePath, isBlackHole, isPassthrough, type SimulationResult } from '../../model/outbound/index.js';
import type { EvidenceItem, Finding } from '../../findings/finding.js';
import { makeFinding } from '../../findings/make.js';
import type { VerdictConfidence, VerdictStatus } from '../../findings/finding.js';
import type { FindingCode } from '../../findings/catalog.js';
import { runRules, type RuleRun } from '../engine.js';
import type { EvidenceModel, Rule } from '../rule.js';

export interface OutboundContext {
  pod: PodView;
  /** `name.namespace`, as istioctl takes it. */
  podArg: string;
  resources: ResourceSet;
  mesh: MeshConfigView;
  dump: ConfigDump;
  istioVersion?: IstioVersion;
  /** The host the app meant (SNI for HTTPS, Host for HTTP). */
  host: string;
  port: number;
  simulation: SimulationResult;
  /** Where the config dump came from (a command), and its snapshot file. */
  dumpSource: string;
  dumpFile?: string;
  /** Findings of the static checks (src/rules/mesh/), to reuse their patches. */
  staticFindings: readonly Finding[];
  /** True when the question is "where does traffic nobody claims go?" (who-owns-443), not one host. */
  anyHost?: boolean;
  /** What the diagnosis saw of this very traffic; quoted, last, in the findings it backs. */
  traffic?: TrafficEvidence;
}

/** Evidence of the traffic itself, beside the config: a probe's curl from the app, the sidecar's access-log lines. */
export interface TrafficEvidence {
  /** Backs MD1001, MD1002, MD2001 and MD2002: what the app saw. */
  probe?: EvidenceItem;
  /** Backs MD2001 and MD2002: the sidecar logged the block itself. */
  accessLog?: EvidenceItem;
}

export interface OutboundVerdict {
  findings: Finding[];
  status: VerdictStatus;
  summary: string;
  /** Lines for the transcript. */
  observations: string[];
  /** The resource blamed, when there is one. */
  culprit?: ObjectRef;
  /** How sure, and which evidence the verdict lacked (set when a source was missing). */
  confidence?: VerdictConfidence;
}

function pathEvidence(ctx: OutboundContext): EvidenceItem {
  const row = ctx.simulation.chainRow;
  return {
    source: `istioctl proxy-config listeners ${ctx.podArg} --port ${row?.port ?? ctx.port}`,
    // The row exactly as istioctl prints it (header and tabwriter padding included).
    excerpt: row ? formatListenerTable([row]).trimEnd() : describePath(ctx.simulation).join('\n'),
    ...(ctx.dumpFile ? { file: ctx.dumpFile } : {}),
    note: `The chain that takes ${ctx.anyHost ? `a TLS connection to port ${ctx.port} that no other chain claims` : ctx.simulation.connection.transport === 'tls' ? `a TLS connection with SNI ${ctx.host}` : `a request for ${ctx.host}`}, by Envoy's filter-chain order (simulated on ${ctx.dumpSource}).`,
  };
}

function simulationEvidence(ctx: OutboundContext): EvidenceItem {
  return {
    source: ctx.dumpSource,
    excerpt: describePath(ctx.simulation).join('\n'),
    ...(ctx.dumpFile ? { file: ctx.dumpFile } : {}),
    note: `Simulated path (confidence ${ctx.simulation.confidence}${ctx.simulation.notes.length ? `; ${ctx.simulation.notes.join('; ')}` : ''}).`,
  };
}

function sameRef(a: ObjectRef | undefined, b: ObjectRef | undefined): boolean {
  return Boolean(a && b && a.kind === b.kind && a.name === b.name && (a.namespace ?? '') === (b.namespace ?? ''));
}

/** True when a cluster is for the host the client meant (`outbound|443||baidu.com` for baidu.com, or a wildcard that covers it). */
function clusterServesHost(cluster: string | undefined, host: string): boolean {
  const name = cluster ? parseIstioClusterName(cluster) : undefined;
  if (!name?.host) return false;
  return name.host === host || hostMatches(name.host, host);
}

/** ServiceEntries whose hosts cover the host (and declare the port, when ports are listed). */
function entriesFor(ctx: OutboundContext): ServiceEntryView[] {
  return entriesDeclaring(ctx.resources, ctx.host, ctx.port);
}

function serviceEntryExcerpt(se: ServiceEntryView): string {
  const spec: Record<string, unknown> = { hosts: se.hosts };
  if (se.addresses.length) spec.addresses = se.addresses;
  spec.location = se.location;
  spec.resolution = se.resolution;
  spec.ports = se.ports.map((p) => p.raw);
  if (se.exportTo) spec.exportTo = se.exportTo;
  return toYaml({ metadata: { name: se.name, namespace: se.namespace }, spec });
}

// ---------------------------------------------------------------------------

/** MD1001: a TLS ClientHello reached an HTTP connection manager. */
function portTreatedAsHttp(ctx: OutboundContext): OutboundVerdict {
  const bug = httpOn443Breaks(ctx.istioVersion);
  const declarations: Array<{ ref: ObjectRef; how: string; excerpt: string; raw: Record<string, unknown> }> = [];
  for (const svc of services(ctx.resources)) {
    for (const p of svc.ports.filter((x) => x.port === ctx.port && isHttpFamily(x.protocol.protocol))) {
      declarations.push({ ref: svc.ref, how: p.protocol.detail, excerpt: toYaml({ metadata: { name: svc.name, namespace: svc.namespace }, spec: { ports: [p.raw] } }), raw: p.raw });
    }
  }
  for (const se of serviceEntries(ctx.resources)) {
    for (const p of se.ports.filter((x) => x.number === ctx.port && isHttpFamily(x.protocol.protocol))) {
      declarations.push({ ref: se.ref, how: p.protocol.detail, excerpt: serviceEntryExcerpt(se), raw: p.raw });
    }
  }
  // Prefer a declaration whose host the chain's route config serves.
  const routeClusters = ctx.simulation.routeConfig?.clusterNames() ?? [];
  const chainClusters = ctx.simulation.chain ? routeClusters : [];
  const culprit = declarations.find((d) => chainClusters.some((c) => ownersOfChainHost(c, ctx).some((o) => sameRef(o, d.ref)))) ?? declarations[0];
  const row = ctx.simulation.chainRow;
  const line = row ? `${row.addresses} ${row.port} ${row.match} ${row.destination}` : `${ctx.simulation.listener?.name ?? '?'} (HTTP connection manager)`;
  const scope = bug.known && bug.applies
    ? `On ${bug.because.replace(/ has the bug.*/, '')} this breaks outbound HTTPS to every host on port ${ctx.port} from every sidecar that sees the declaration (istio/istio#16458).`
    : `${bug.because}; here the chain that takes TLS to ${ctx.host} still runs an HTTP connection manager.`;
  const target: ObjectRef = culprit?.ref ?? { kind: 'Listener', namespace: ctx.pod.namespace, name: ctx.simulation.listener?.name ?? `0.0.0.0_${ctx.port}` };
  const evidence: EvidenceItem[] = [pathEvidence(ctx), simulationEvidence(ctx)];
  if (culprit) evidence.push({ source: kubectlGet(culprit.ref), excerpt: culprit.excerpt, note: `Istio reads the port's protocol from ${culprit.how}.` });
  const patch = culprit?.ref.kind === 'Service'
    ? `${toYaml({ spec: { ports: [culprit.how.startsWith('appProtocol') ? { ...culprit.raw, appProtocol: 'https' } : { ...culprit.raw, name: 'https' }] } })}\n# or keep the name and set appProtocol: https (Istio reads appProtocol first)`
    : culprit ? toYaml({ spec: { ports: [{ ...culprit.raw, name: 'https', protocol: 'HTTPS' }] } }) : undefined;
  const finding = makeFinding('MD1001', {
    message: `${ctx.anyHost ? `TLS to port ${ctx.port}` : `TLS to ${ctx.host}:${ctx.port}`} from ${ctx.podArg} reaches an HTTP connection manager on \`${line}\`: the sidecar parses the ClientHello as HTTP and the client sees "unknown protocol". `
      + (culprit ? `${formatRef(culprit.ref)} declares port ${ctx.port} as HTTP (${culprit.how}). ` : `No Service or ServiceEntry in the evidence declares port ${ctx.port} as HTTP. `)
      + scope,
    target,
    evidence,
    remediation: {
      text: culprit
        ? `Declare ${formatRef(culprit.ref)}'s port ${ctx.port} as what it carries: name it https (or set appProtocol: https), or move its plain HTTP off port ${ctx.port}. ${bug.applies ? 'Upgrading to Istio 1.8+ (ASM 1.10+) also stops one port name from breaking every sidecar.' : ''}`.trim()
        : `Find what makes istiod build an HTTP chain for port ${ctx.port} (a Service or ServiceEntry port named http*, grpc*, or with an HTTP appProtocol).`,
      ...(patch ? { patch } : {}),
      command: `istioctl proxy-config listeners ${ctx.podArg} --port ${ctx.port} -o json`,
    },
    assumes: [bug.because],
  });
  return {
    findings: [finding],
    status: 'problem',
    culprit: target,
    summary: culprit
      ? `HTTPS to ${ctx.anyHost ? `any host on port ${ctx.port}` : ctx.host} fails because ${formatRef(culprit.ref)} declares port ${ctx.port} as HTTP (${culprit.how}) and the sidecar sends TLS into an HTTP connection manager; rename the port https (or set appProtocol: https)${bug.applies ? ' or upgrade to Istio 1.8+ / ASM 1.10+' : ''}.`
      : `HTTPS to ${ctx.host} fails because the sidecar's chain for port ${ctx.port} is an HTTP connection manager; find the HTTP-named declaration of port ${ctx.port}.`,
    observations: [`TLS reaches an HTTP connection manager on ${line}`],
  };
}

function ownersOfChainHost(cluster: string, ctx: OutboundContext): ObjectRef[] {
  const name = parseIstioClusterName(cluster);
  if (!name?.host) return [];
  const out: ObjectRef[] = [];
  for (const svc of services(ctx.resources)) if (svc.hosts.includes(name.host)) out.push(svc.ref);
  for (const se of serviceEntries(ctx.resources)) if (se.hosts.includes(name.host)) out.push(se.ref);
  return out;
}

/** MD1002 (+ MD2002 when the entry that would have claimed the host is hidden). */
function catchAllCaptures(ctx: OutboundContext, owners: ObjectRef[]): OutboundVerdict {
  const sim = ctx.simulation;
  const row = sim.chainRow;
  const cluster = sim.outcome.cluster!;
  const line = row ? `${row.addresses} ${row.port} ${row.match} ${row.destination}` : cluster;
  const owner = owners.find((o) => o.kind === 'ServiceEntry') ?? owners[0];
  const target: ObjectRef = owner ?? { kind: 'Cluster', name: cluster };
  const staticMd1003 = ctx.staticFindings.find((f) => f.code === 'MD1003' && sameRef(f.target, owner));
  const entry = owner?.kind === 'ServiceEntry' ? serviceEntries(ctx.resources).find((se) => sameRef(se.ref, owner)) : undefined;
  const evidence: EvidenceItem[] = [pathEvidence(ctx), simulationEvidence(ctx)];
  if (entry) {
    evidence.push({
      source: kubectlGet(entry.ref),
      excerpt: `${serviceEntryExcerpt(entry)}${absentFields(entry) ? `\n${absentFields(entry)}` : ''}`,
      note: entry.addresses.length === 0 ? `Without addresses istiod builds this entry's port ${ctx.port} on 0.0.0.0, so its chain has nothing to match on but the port.` : undefined,
    });
  }
  const backend = cluster.replace(/^outbound\|\d+\|[^|]*\|/, '');
  const subject = ctx.anyHost ? `Every connection to port ${ctx.port} that no other chain claims` : `A connection to ${ctx.host}:${ctx.port}`;
  const findings: Finding[] = [makeFinding('MD1002', {
    message: `${subject} from ${ctx.podArg} is taken by the catch-all chain \`${line}\`${owner ? ` generated from ${formatRef(owner)}` : ''}: it goes to ${backend}, whatever host the client meant. `
      + 'Any HTTPS host without its own SNI chain on this port gets the same backend, so clients see a certificate for another name, a refused handshake, or that backend\'s reply (e.g. "404 page not found").',
    target,
    evidence,
    remediation: {
      text: owner
        ? `Give ${formatRef(owner)} the addresses its clients connect to (the backend Service's ClusterIP or CIDR) and endpoints, so its chain matches only that address; then the port's unmatched traffic goes to PassthroughCluster again. Adding ServiceEntries per public host only adds SNI chains in front of the catch-all and breaks again where they are not visible.`
        : `Find the resource behind cluster ${cluster} and give it addresses.`,
      ...(staticMd1003?.remediation.patch ? { patch: staticMd1003.remediation.patch } : entry ? { patch: toYaml({ spec: { addresses: ['<the ClusterIP or CIDR clients connect to>'] } }) } : {}),
      command: `istioctl proxy-config listeners ${ctx.podArg} --port ${ctx.port}`,
    },
    assumes: ['Envoy picks the most specific filter chain: an SNI match beats a chain without one; a chain with no criteria takes everything else (FilterChainMatch)'],
  })];
  const observations = [`the catch-all ${line} takes ${ctx.host}`];
  // Incident 4: the MESH_EXTERNAL entry that gave this host its own SNI chain exists but is hidden from this pod.
  for (const se of entriesFor(ctx)) {
    if (owner && sameRef(se.ref, owner)) continue;
    const v = visibleTo({ namespace: ctx.pod.namespace, labels: ctx.pod.labels, name: ctx.pod.name }, se, ctx.resources, { mesh: ctx.mesh });
    if (v.visible || !v.hiddenBy) continue;
    observations.push(v.because);
    findings.push(hiddenEntryFinding(ctx, se, v.because, v.hiddenBy, 'warning',
      `Otherwise ${formatRef(se.ref)} would add an SNI chain for ${ctx.host} in front of the catch-all (the workaround that stopped working).`));
  }
  return {
    findings,
    status: 'problem',
    culprit: target,
    summary: `${ctx.anyHost ? `Unclaimed connections to port ${ctx.port}` : `Connections to ${ctx.host}:${ctx.port}`} go to ${backend} because ${owner ? formatRef(owner) : `cluster ${cluster}`} has no addresses and owns the catch-all chain \`${line}\`; give it spec.addresses (and endpoints).`,
    observations,
  };
}

function hiddenEntryFinding(ctx: OutboundContext, se: ServiceEntryView, because: string, hiddenBy: ObjectRef, severity: 'error' | 'warning', tail: string): Finding {
  const bySidecar = hiddenBy.kind === 'Sidecar';
  const sidecar = bySidecar ? sidecarFor({ namespace: ctx.pod.namespace, labels: ctx.pod.labels, name: ctx.pod.name }, ctx.resources, { mesh: ctx.mesh }).sidecar : undefined;
  const evidence: EvidenceItem[] = [{ source: kubectlGet(se.ref), excerpt: serviceEntryExcerpt(se) }];
  if (sidecar) evidence.push({ source: kubectlGet(sidecar.ref), excerpt: toYaml({ spec: { egress: sidecar.egress.map((e) => ({ hosts: e.hosts.map((h) => h.raw) })) } }), note: because });
  const importLine = `${se.namespace}/${ctx.host}`;
  return makeFinding('MD2002', {
    severity,
    message: `${formatRef(se.ref)} declares ${ctx.host} but ${because}. ${tail}`,
    target: hiddenBy,
    evidence,
    remediation: bySidecar
      ? {
        text: `Let Sidecar ${hiddenBy.namespace}/${hiddenBy.name} import the entry: add "${importLine}" (or "${se.namespace}/*") to its egress hosts.`,
        patch: toYaml({ spec: { egress: [{ hosts: [...(sidecar?.egress[0]?.hosts.map((h) => h.raw) ?? ['./*']), importLine] }] } }),
        command: `kubectl edit sidecar ${hiddenBy.name} -n ${hiddenBy.namespace}`,
      }
      : {
        text: `Export ${formatRef(se.ref)} to namespace ${ctx.pod.namespace} (exportTo: ["*"] or add "${ctx.pod.namespace}"), or create an entry for ${ctx.host} in ${ctx.pod.namespace}.`,
        patch: toYaml({ spec: { exportTo: [...new Set([...(se.exportTo ?? []), ctx.pod.namespace])] } }),
      },
  });
}

/** The virtual host that answered (block_all), as `istioctl proxy-config routes` prints it in JSON. */
function blockingRouteEvidence(ctx: OutboundContext): EvidenceItem | undefined {
  const { routeConfig, virtualHost } = ctx.simulation;
  if (!routeConfig || !virtualHost) return undefined;
  return {
    source: `istioctl proxy-config routes ${ctx.podArg} --name ${routeConfig.name} -o json`,
    excerpt: JSON.stringify(virtualHost.raw, null, 2),
    ...(ctx.dumpFile ? { file: ctx.dumpFile } : {}),
    note: `No virtual host of route config ${routeConfig.name} names ${ctx.host}, so the catch-all domain "*" answers.`,
  };
}

/**
 * Where REGISTRY_ONLY comes from for a pod (its Sidecar, else the mesh config;
 * no `from` when neither says it), and the resource MD2001 blames.
 */
export function registryOnlyPolicy(pod: PodView, resources: ResourceSet, mesh: MeshConfigView): { from?: string; target: ObjectRef } {
  const sidecarPolicy = sidecarFor({ namespace: pod.namespace, labels: pod.labels, name: pod.name }, resources, { mesh }).sidecar;
  const target = mesh.source ?? sidecarPolicy?.ref ?? { kind: 'ConfigMap', namespace: mesh.rootNamespace, name: 'istio' };
  if (sidecarPolicy?.outboundTrafficPolicyMode === 'REGISTRY_ONLY') return { from: `Sidecar ${sidecarPolicy.namespace}/${sidecarPolicy.name} (outboundTrafficPolicy.mode: REGISTRY_ONLY)`, target };
  if (mesh.outboundTrafficPolicyMode === 'REGISTRY_ONLY') return { from: `the mesh config${mesh.source ? ` (ConfigMap ${mesh.source.namespace}/${mesh.source.name})` : ''}: outboundTrafficPolicy.mode REGISTRY_ONLY`, target };
  return { target };
}

/** What MD2001 for an unregistered host needs, whichever evidence showed the block. */
export interface UnregisteredHost {
  pod: PodView;
  podArg: string;
  mesh: MeshConfigView;
  istioVersion?: IstioVersion;
  host: string;
  port: number;
  protocol: 'HTTP' | 'TLS';
  /** How the block shows: `the block_all route answers 502 itself`. */
  how: string;
  /** The policy's source, as a phrase. */
  policyFrom: string;
  target: ObjectRef;
  evidence: EvidenceItem[];
  /** A ServiceEntry declares the host and the pod sees it (the sidecar lacks it anyway). */
  visible?: ServiceEntryView;
  /** What the verdict assumed beyond REGISTRY_ONLY's behaviour (evidence it did not have). */
  assumes?: string[];
}

/** MD2001: REGISTRY_ONLY blocks a host no (visible) ServiceEntry registers, with the ServiceEntry to add. */
export function unregisteredHostFinding(u: UnregisteredHost): Finding {
  const entryPatch = toYaml({
    apiVersion: networkingApiVersion(u.istioVersion),
    kind: 'ServiceEntry',
    metadata: { name: u.host.replace(/[^a-z0-9-]/gi, '-').replace(/^-+|-+$/g, '').toLowerCase(), namespace: u.pod.namespace },
    spec: { hosts: [u.host], location: 'MESH_EXTERNAL', ports: [{ number: u.port, name: `${u.protocol.toLowerCase()}-${u.port}`, protocol: u.protocol }], resolution: 'DNS' },
  });
  const evidence = [...u.evidence];
  const source = u.mesh.source;
  if (source) evidence.push({ source: `kubectl get configmap ${source.name} -n ${source.namespace} -o jsonpath='{.data.mesh}'`, excerpt: 'outboundTrafficPolicy:\n  mode: REGISTRY_ONLY' });
  const visible = u.visible;
  return makeFinding('MD2001', {
    message: visible
      ? `${u.host}:${u.port} is blocked for ${u.podArg}: ${u.how}, although ${formatRef(visible.ref)} declares the host and is visible to the pod; the sidecar has not received it (check \`istioctl proxy-status ${u.podArg}\`) or the entry's port/protocol does not produce a chain for this traffic.`
      : `${u.host}:${u.port} is blocked for ${u.podArg}: with ${u.policyFrom}, only registered hosts get out, and no ServiceEntry declares ${u.host}${u.port ? ` on port ${u.port}` : ''}; ${u.how}.`,
    target: u.target,
    evidence,
    remediation: {
      text: visible
        ? `Compare ${formatRef(visible.ref)}'s ports with the traffic (port ${u.port}, ${u.protocol}), and check that the sidecar is in sync.`
        : `Register the host with a ServiceEntry (location MESH_EXTERNAL, the port with its protocol, resolution DNS), visible to namespace ${u.pod.namespace}; or, if the block is not wanted, set outboundTrafficPolicy.mode ALLOW_ANY.`,
      ...(visible ? {} : { patch: entryPatch }),
      command: visible ? `istioctl proxy-status ${u.podArg}` : `istioctl proxy-config endpoint ${u.podArg} --cluster 'outbound|${u.port}||${u.host}'`,
    },
    assumes: ['REGISTRY_ONLY: HTTP to unregistered hosts gets the block_all route (502, direct_response); TLS/TCP goes to BlackHoleCluster', ...(u.assumes ?? [])],
  });
}

/** The ServiceEntries that declare a host on a port (any port when they list none). */
export function entriesDeclaring(resources: ResourceSet, host: string, port: number): ServiceEntryView[] {
  return serviceEntries(resources).filter((se) => se.hosts.some((h) => hostMatches(h, host)) && (se.ports.length === 0 || se.ports.some((p) => p.number === port)));
}

/** MD2001 / MD2002: REGISTRY_ONLY sent the connection to BlackHoleCluster or the block_all 502. */
function registryOnlyBlocks(ctx: OutboundContext): OutboundVerdict {
  const sim = ctx.simulation;
  const how = sim.outcome.kind === 'direct_response' ? `the ${sim.outcome.routeName ?? 'block_all'} route answers 502 itself` : 'the connection goes to BlackHoleCluster and is closed';
  const policy = registryOnlyPolicy(ctx.pod, ctx.resources, ctx.mesh);
  const policyFrom = policy.from ?? 'outboundTrafficPolicy REGISTRY_ONLY (not visible in the collected mesh config; the sidecar config shows it)';
  const observations = [`${how} (${policyFrom})`];
  const workload = { namespace: ctx.pod.namespace, labels: ctx.pod.labels, name: ctx.pod.name };
  const entries = entriesFor(ctx);
  for (const se of entries) {
    const v = visibleTo(workload, se, ctx.resources, { mesh: ctx.mesh });
    observations.push(v.because);
    if (!v.visible && v.hiddenBy) {
      const finding = hiddenEntryFinding(ctx, se, v.because, v.hiddenBy, 'error', `Under REGISTRY_ONLY ${how}.`);
      const routeEvidence = blockingRouteEvidence(ctx);
      finding.evidence.unshift(pathEvidence(ctx), ...(routeEvidence ? [routeEvidence] : []));
      return {
        findings: [finding],
        status: 'problem',
        culprit: v.hiddenBy,
        summary: `${ctx.host} is blocked for ${ctx.podArg} under REGISTRY_ONLY because ${sameRef(v.hiddenBy, se.ref) ? `${formatRef(se.ref)} is not exported to namespace ${ctx.pod.namespace} (exportTo ${JSON.stringify(se.exportTo ?? [])})` : `${formatRef(v.hiddenBy)} hides ${formatRef(se.ref)} from it`}; ${v.hiddenBy.kind === 'Sidecar' ? `add "${se.namespace}/${ctx.host}" to the Sidecar's egress hosts` : `export the entry to ${ctx.pod.namespace}`}.`,
        observations,
      };
    }
  }
  const visible = entries.find((se) => visibleTo(workload, se, ctx.resources, { mesh: ctx.mesh }).visible);
  const target = policy.target;
  const routeEvidence = blockingRouteEvidence(ctx);
  const finding = unregisteredHostFinding({
    pod: ctx.pod, podArg: ctx.podArg, mesh: ctx.mesh, ...(ctx.istioVersion ? { istioVersion: ctx.istioVersion } : {}), host: ctx.host, port: ctx.port,
    protocol: ctx.simulation.connection.transport === 'tls' ? 'TLS' : 'HTTP', how, policyFrom, target,
    evidence: [pathEvidence(ctx), simulationEvidence(ctx), ...(routeEvidence ? [routeEvidence] : [])],
    ...(visible ? { visible } : {}),
  });
  return {
    findings: [finding],
    status: 'problem',
    culprit: target,
    summary: visible
      ? `${ctx.host} is blocked under REGISTRY_ONLY although ${formatRef(visible.ref)} declares it; the sidecar does not have it yet or its port does not match.`
      : `${ctx.host} is blocked because ${policyFrom} and no ServiceEntry registers it; add a ServiceEntry for ${ctx.host} port ${ctx.port}.`,
    observations,
  };
}

// ---------------------------------------------------------------------------
// The path rules: one per finding code, over one simulated path. Each takes its
// findings from the branch of the path's verdict that explains its outcome, and
// quotes the traffic evidence that backs them (what the app and the sidecar saw).

export type OutboundPathRule = Rule<OutboundContext>;

/** One simulated path as the engine's evidence: the sidecar's config dump was read (it was simulated). */
export function outboundPathEvidence(ctx: OutboundContext): EvidenceModel<OutboundContext> {
  return { evidence: ctx, holds: (kind) => kind === 'config-dump' };
}

function pathRule(id: string, code: FindingCode, description: string): OutboundPathRule {
  return {
    id, code, description,
    needs: ['config-dump'],
    // The verdict's observations are the diagnosis' to note (a healthy path has them too, and no finding).
    check: (ctx) => pathVerdict(ctx).findings.filter((f) => f.code === code).map((f) => quoteTraffic(ctx, f)),
  };
}

export const pathTlsIntoHttp = pathRule('md1001-path-tls-into-http', 'MD1001', 'The connection\'s TLS reaches an HTTP connection manager: the port is declared HTTP');
export const pathCatchAll = pathRule('md1002-path-catch-all', 'MD1002', 'A catch-all chain sends the connection to another service, whatever host the client meant');
export const pathUnregisteredHost = pathRule('md2001-path-unregistered-host', 'MD2001', 'REGISTRY_ONLY blocks the host: no ServiceEntry registers it');
export const pathHiddenServiceEntry = pathRule('md2002-path-hidden-service-entry', 'MD2002', 'A ServiceEntry declares the host but is hidden from the pod (exportTo, or its Sidecar)');

/** The path rules, in the order their findings are reported. */
export const OUTBOUND_PATH_RULES: readonly OutboundPathRule[] = [pathTlsIntoHttp, pathCatchAll, pathUnregisteredHost, pathHiddenServiceEntry];

/** A finding with the traffic evidence that backs it quoted last: the probe for every path code, the access log for MD2001 and MD2002. */
function quoteTraffic(ctx: OutboundContext, f: Finding): Finding {
  const { probe, accessLog } = ctx.traffic ?? {};
  const quotes: EvidenceItem[] = [
    ...(probe && ['MD1001', 'MD1002', 'MD2001', 'MD2002'].includes(f.code) ? [probe] : []),
    ...(accessLog && ['MD2001', 'MD2002'].includes(f.code) ? [accessLog] : []),
  ];
  return quotes.length ? { ...f, evidence: [...f.evidence, ...quotes] } : f;
}

/** Runs the path rules on the engine over one simulated path. */
export function runPathRules(ctx: OutboundContext): RuleRun {
  return runRules(OUTBOUND_PATH_RULES, outboundPathEvidence(ctx));
}

/** The verdict for the simulated path (status, summary, culprit), its findings the path rules' run. */
export function pathVerdictOf(ctx: OutboundContext, run: RuleRun): OutboundVerdict {
  return { ...pathVerdict(ctx), findings: run.findings };
}

/** The verdict for the simulated path, the path rules run on the engine (for callers that need no outcomes). */
export function explainOutboundPath(ctx: OutboundContext): OutboundVerdict {
  return pathVerdictOf(ctx, runPathRules(ctx));
}

/** Each path's verdict, worked out once: every path rule and the diagnosis' verdict read the same one. */
const verdicts = new WeakMap<OutboundContext, OutboundVerdict>();

function pathVerdict(ctx: OutboundContext): OutboundVerdict {
  let verdict = verdicts.get(ctx);
  if (!verdict) verdicts.set(ctx, verdict = explainPath(ctx));
  return verdict;
}

function explainPath(ctx: OutboundContext): OutboundVerdict {
  const sim = ctx.simulation;
  const outcome = sim.outcome;
  if (outcome.kind === 'tls_into_http') return portTreatedAsHttp(ctx);
  if ((outcome.kind === 'cluster' && isBlackHole(outcome.cluster)) || (outcome.kind === 'direct_response' && (outcome.routeName === 'block_all' || outcome.status === 502))) {
    return registryOnlyBlocks(ctx);
  }
  if (outcome.kind === 'cluster' && outcome.cluster && !isPassthrough(outcome.cluster)) {
    if (clusterServesHost(outcome.cluster, ctx.host)) {
      return {
        findings: [],
        status: 'healthy',
        summary: `The sidecar sends ${ctx.host}:${ctx.port} to ${outcome.cluster}, the cluster for that host; the sidecar's routing is right. If it still fails, look at that cluster's endpoints and TLS settings (istioctl proxy-config endpoint ${ctx.podArg} --cluster '${outcome.cluster}').`,
        observations: [`${ctx.host} goes to its own cluster ${outcome.cluster}`],
      };
    }
    const owners = sim.chain ? ownersOfChain(sim.chain, ctx.resources, ctx.dump) : [];
    // A chain without criteria on a per-VIP listener is how Istio routes a TCP service's own address:
    // the app connected to that service's IP, so nothing was captured. Only 0.0.0.0 catch-alls capture.
    const wildcardListener = !sim.listener || ['0.0.0.0', '::'].includes(sim.listener.address?.address ?? '');
    if (!wildcardListener && (sim.catchAll || sim.chain?.isDefault)) {
      return {
        findings: [],
        status: 'healthy',
        summary: `${ctx.host}:${ctx.port} was reached by its address ${sim.connection.destinationIp ?? ''}: listener ${sim.listener?.name} sends it to ${outcome.cluster}${owners.length ? ` (${owners.map(formatRef).join(', ')})` : ''}, the service that owns that address. If that is not ${ctx.host}, the name resolves to another service's IP.`,
        observations: [`${sim.listener?.name} -> ${outcome.cluster}`],
      };
    }
    if (sim.catchAll || sim.chain?.isDefault) return catchAllCaptures(ctx, owners);
    return {
      findings: [],
      status: 'inconclusive',
      summary: `The sidecar sends ${ctx.host}:${ctx.port} to ${outcome.cluster} through a chain that matches it specifically; check whether that is intended (its owner: ${owners.map(formatRef).join(', ') || 'unknown'}).`,
      observations: [`${ctx.host} goes to ${outcome.cluster}`],
    };
  }
  if (outcome.kind === 'cluster' && isPassthrough(outcome.cluster)) {
    return {
      findings: [],
      status: 'healthy',
      summary: `The sidecar passes ${ctx.host}:${ctx.port} through unchanged (PassthroughCluster): nothing in its config captures this connection. If it still fails, check DNS, egress firewalls and the server itself (--probe runs curl from the app container).`,
      observations: ['PassthroughCluster: the connection leaves the sidecar unchanged'],
    };
  }
  if (outcome.kind === 'no_route') {
    return { findings: [], status: 'problem', summary: `The sidecar answers 404 for ${ctx.host}: ${outcome.why}.`, observations: [outcome.why] };
  }
  if (outcome.kind === 'no_filter_chain') {
    return { findings: [], status: 'problem', summary: `The sidecar closes the connection to ${ctx.host}:${ctx.port}: ${outcome.why}.`, observations: [outcome.why] };
  }
  return { findings: [], status: 'inconclusive', summary: `The simulated path ends in ${outcome.kind}: ${outcome.why}.`, observations: [outcome.why] };
}

/** The static findings (MD1003-MD1005) that bear on this host and port, from the shared static checks. */
export function relevantStaticFindings(findings: readonly Finding[], port: number, culprit?: ObjectRef): Finding[] {
  return findings.filter((f) => {
    if (f.code === 'MD1003') return sameRef(f.target, culprit) || new RegExp(`\\bport ${port}\\b`).test(f.message);
    if (f.code === 'MD1004') return port === 443;
    if (f.code === 'MD1005') return new RegExp(`\\bport ${port}\\b`).test(f.message);
    return false;
  });
}

export { describeProtocol };
