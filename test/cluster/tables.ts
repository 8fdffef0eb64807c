// Server-side printing: the meta.k8s.io/v1 Table kubectl asks for with
// `Accept: application/json;as=Table;v=v1;g=meta.k8s.io`. Columns follow the
// API server's printers (pkg/printers/internalversion/printers.go) for the
// built-in kinds and Istio's additionalPrinterColumns for its CRDs.

import type {K8sObject} from './snapshot.js';
import type {KindInfo} from './registry.js';

interface Col {
  name: string;
  type: string;
  format?: string;
  priority?: number;
  description?: string;
  cell: (o: K8sObject, now: number) => unknown;
}

/** k8s.io/apimachinery/pkg/util/duration.HumanDuration */
export function humanDuration(ms: number): string {
  const s = Math.floor(ms / 1000);
  if (s < 0) return '<invalid>';
  if (s < 60 * 2) return `${s}s`;
  const m = Math.floor(s / 60);
  if (m < 10) return s % 60 === 0 ? `${m}m` : `${m}m${s % 60}s`;
  if (m < 60 * 3) return `${m}m`;
  const h = Math.floor(s / 3600);
  if (h < 8) return m % 60 === 0 ? `${h}h` : `${h}h${m % 60}m`;
  if (h < 48) return `${h}h`;
  if (h < 24 * 8) return h % 24 === 0 ? `${Math.floor(h / 24)}d` : `${Math.floor(h / 24)}d${h % 24}h`;
  if (h < 24 * 365 * 2) return `${Math.floor(h / 24)}d`;
  if (h < 24 * 365 * 8) {
    const dy = Math.floor(h / 24) % 365;
    return dy === 0 ? `${Math.floor(h / 24 / 365)}y` : `${Math.floor(h / 24 / 365)}y${dy}d`;
  }
  return `${Math.floor(h / 24 / 365)}y`;
}

const age = (o: K8sObject, now: number) => {
  const t = Date.parse(o.metadata.creationTimestamp ?? '');
  return Number.isNaN(t) ? '<unknown>' : humanDuration(now - t);
};
const nameCol: Col = {name: 'Name', type: 'string', format: 'name', description: 'Name must be unique within a namespace.', cell: (o) => o.metadata.name};
const ageCol: Col = {name: 'Age', type: 'string', description: 'CreationTimestamp', cell: age};
const orNone = (v: unknown) => (v === undefined || v === null || v === '' ? '<none>' : v);
const list = (v: unknown) => (Array.isArray(v) && v.length > 0 ? v.join(',') : '<none>');

function podStatus(o: K8sObject): string {
  if (o.metadata.deletionTimestamp) return 'Terminating';
  let reason: string = o.status?.reason ?? o.status?.phase ?? 'Unknown';
  const inits: any[] = o.status?.initContainerStatuses ?? [];
  for (const [i, c] of inits.entries()) {
    if (c.state?.terminated && c.state.terminated.exitCode === 0) continue;
    if (c.state?.terminated) return `Init:${c.state.terminated.reason ?? 'Error'}`;
    if (c.state?.waiting?.reason && c.state.waiting.reason !== 'PodInitializing') return `Init:${c.state.waiting.reason}`;
    return `Init:${i}/${(o.spec?.initContainers ?? []).length}`;
  }
  for (const c of (o.status?.containerStatuses ?? []) as any[]) {
    if (c.state?.waiting?.reason) reason = c.state.waiting.reason;
    else if (c.state?.terminated?.reason) reason = c.state.terminated.reason;
  }
  return reason;
}

function podRestarts(o: K8sObject, now: number): string {
  let n = 0;
  let last = 0;
  for (const c of (o.status?.containerStatuses ?? []) as any[]) {
    n += c.restartCount ?? 0;
    const t = Date.parse(c.lastState?.terminated?.finishedAt ?? '');
    if (!Number.isNaN(t) && t > last) last = t;
  }
  return last > 0 && n > 0 ? `${n} (${humanDuration(now - last)} ago)` : String(n);
}

function svcPorts(o: K8sObject): string {
  const ports: any[] = o.spec?.ports ?? [];
  if (ports.length === 0) return '<none>';
  return ports.map((p) => `${p.port}${p.nodePort ? `:${p.nodePort}` : ''}/${p.protocol ?? 'TCP'}`).join(',');
}

function selector(sel: Record<string, string> | undefined): string {
  if (!sel || Object.keys(sel).length === 0) return '<none>';
  return Object.entries(sel).map(([k, v]) => `${k}=${v}`).join(',');
}

function endpointsCell(o: K8sObject): string {
  const addrs: string[] = [];
  for (const s of (o.subsets ?? []) as any[]) {
    for (const a of s.addresses ?? []) for (const p of s.ports ?? [{port: undefined}]) addrs.push(p.port ? `${a.ip}:${p.port}` : a.ip);
  }
  if (addrs.length === 0) return '<none>';
  return addrs.length > 3 ? `${addrs.slice(0, 3).join(',')} + ${addrs.length - 3} more...` : addrs.join(',');
}

const COLUMNS: Record<string, Col[]> = {
  Pod: [
    nameCol,
    {name: 'Ready', type: 'string', description: 'The aggregate readiness state of this pod for accepting traffic.', cell: (o) => {
      const cs: any[] = o.status?.containerStatuses ?? [];
      return `${cs.filter((c) => c.ready).length}/${(o.spec?.containers ?? []).length}`;
    }},
    {name: 'Status', type: 'string', description: 'The aggregate status of the containers in this pod.', cell: podStatus},
    {name: 'Restarts', type: 'string', description: 'The number of times the containers in this pod have been restarted and when the last container in this pod has restarted.', cell: podRestarts},
    ageCol,
    {name: 'IP', type: 'string', priority: 1, description: 'IP address allocated to the pod.', cell: (o) => orNone(o.status?.podIP)},
    {name: 'Node', type: 'string', priority: 1, description: 'Name of the Node this pod is assigned to.', cell: (o) => orNone(o.spec?.nodeName)},
    {name: 'Nominated Node', type: 'string', priority: 1, description: 'Name of the Node this pod is nominated to.', cell: (o) => orNone(o.status?.nominatedNodeName)},
    {name: 'Readiness Gates', type: 'string', priority: 1, description: 'Readiness gates.', cell: (o) => (o.spec?.readinessGates?.length ? String(o.spec.readinessGates.length) : '<none>')},
  ],
  Service: [
    nameCol,
    {name: 'Type', type: 'string', description: 'The type of the service.', cell: (o) => o.spec?.type ?? 'ClusterIP'},
    {name: 'Cluster-IP', type: 'string', description: 'The cluster IP of the service.', cell: (o) => orNone(o.spec?.clusterIP)},
    {name: 'External-IP', type: 'string', description: 'The external IP of the service.', cell: (o) => {
      if (o.spec?.type === 'ExternalName') return o.spec.externalName;
      const ips = [...(o.status?.loadBalancer?.ingress ?? []).map((i: any) => i.ip ?? i.hostname), ...(o.spec?.externalIPs ?? [])];
      if (ips.length > 0) return ips.join(',');
      return o.spec?.type === 'LoadBalancer' ? '<pending>' : '<none>';
    }},
    {name: 'Port(s)', type: 'string', description: 'The ports of the service.', cell: svcPorts},
    ageCol,
    {name: 'Selector', type: 'string', priority: 1, description: 'The selector of the service.', cell: (o) => selector(o.spec?.selector)},
  ],
  Endpoints: [nameCol, {name: 'Endpoints', type: 'string', description: 'Endpoints.', cell: endpointsCell}, ageCol],
  ConfigMap: [nameCol, {name: 'Data', type: 'integer', description: 'Number of keys.', cell: (o) => Object.keys(o.data ?? {}).length + Object.keys(o.binaryData ?? {}).length}, ageCol],
  Namespace: [nameCol, {name: 'Status', type: 'string', description: 'The status of the namespace.', cell: (o) => o.status?.phase ?? 'Active'}, ageCol],
  Deployment: [
    nameCol,
    {name: 'Ready', type: 'string', description: 'Ready replicas.', cell: (o) => `${o.status?.readyReplicas ?? 0}/${o.spec?.replicas ?? 1}`},
    {name: 'Up-to-date', type: 'integer', description: 'Updated replicas.', cell: (o) => o.status?.updatedReplicas ?? 0},
    {name: 'Available', type: 'integer', description: 'Available replicas.', cell: (o) => o.status?.availableReplicas ?? 0},
    ageCol,
  ],
  ServiceEntry: [
    nameCol,
    {name: 'Hosts', type: 'string', description: 'The hosts associated with the ServiceEntry.', cell: (o) => JSON.stringify(o.spec?.hosts ?? [])},
    {name: 'Location', type: 'string', description: 'Whether the service is external to the mesh or part of the mesh (MESH_EXTERNAL or MESH_INTERNAL).', cell: (o) => o.spec?.location ?? ''},
    {name: 'Resolution', type: 'string', description: 'Service resolution mode for the hosts (NONE, STATIC, or DNS).', cell: (o) => o.spec?.resolution ?? ''},
    ageCol,
  ],
  DestinationRule: [nameCol, {name: 'Host', type: 'string', description: 'The name of a service from the service registry.', cell: (o) => o.spec?.host ?? ''}, ageCol],
  VirtualService: [
    nameCol,
    {name: 'Gateways', type: 'string', description: 'The names of gateways and sidecars that should apply these routes.', cell: (o) => JSON.stringify(o.spec?.gateways ?? [])},
    {name: 'Hosts', type: 'string', description: 'The destination hosts to which traffic is being sent.', cell: (o) => JSON.stringify(o.spec?.hosts ?? [])},
    ageCol,
  ],
  PeerAuthentication: [nameCol, {name: 'Mode', type: 'string', description: 'Defines the mTLS mode used for peer authentication.', cell: (o) => o.spec?.mtls?.mode ?? ''}, ageCol],
  AuthorizationPolicy: [nameCol, {name: 'Action', type: 'string', description: 'The operation to take.', cell: (o) => o.spec?.action ?? 'ALLOW'}, ageCol],
  EndpointSlice: [
    nameCol,
    {name: 'AddressType', type: 'string', description: 'Address type.', cell: (o) => o.addressType ?? ''},
    {name: 'Ports', type: 'string', description: 'Ports.', cell: (o) => list((o.ports ?? []).map((p: any) => p.port))},
    {name: 'Endpoints', type: 'string', description: 'Endpoints.', cell: (o) => list((o.endpoints ?? []).flatMap((e: any) => e.addresses ?? []))},
    ageCol,
  ],
};

export function buildTable(info: KindInfo, objects: K8sObject[], includeObject: string, resourceVersion: string, now = Date.now()): unknown {
  const cols = COLUMNS[info.kind] ?? [nameCol, ageCol];
  return {
    kind: 'Table',
    apiVersion: 'meta.k8s.io/v1',
    metadata: {resourceVersion},
    columnDefinitions: cols.map((c) => ({name: c.name, type: c.type, format: c.format ?? '', description: c.description ?? '', priority: c.priority ?? 0})),
    rows: objects.map((o) => ({
      cells: cols.map((c) => c.cell(o, now)),
      object: includeObject === 'Object'
        ? o
        : includeObject === 'None'
          ? undefined
          : {kind: 'PartialObjectMetadata', apiVersion: 'meta.k8s.io/v1', metadata: o.metadata},
    })),
  };
}
