/** Excerpts and wording shared by the mesh rules. */
import type { MeshConfigView } from '../../model/istio/mesh-config.js';
import { toYaml } from '../../model/istio/common.js';
import type { ServiceEntryPortView, ServiceEntryView } from '../../model/istio/service-entry.js';
import type { ServicePortView, ServiceView } from '../../model/istio/services.js';

export function serviceEntryExcerpt(se: ServiceEntryView, ports: ServiceEntryPortView[] = se.ports): string {
  const spec: Record<string, unknown> = { hosts: se.hosts };
  if (se.addresses.length > 0) spec.addresses = se.addresses;
  spec.location = se.location;
  spec.resolution = se.resolution;
  spec.ports = ports.map((p) => p.raw);
  if (se.exportTo) spec.exportTo = se.exportTo;
  const absent = absentFields(se);
  return `${toYaml({ spec })}${absent ? `\n${absent}` : ''}`;
}

/**
 * The fields a ServiceEntry fix sets (addresses, endpoints, workloadSelector,
 * exportTo) that this one lacks: an excerpt cannot show a missing field, so it
 * says so, and the fix's words match what the reader sees.
 */
export function absentFields(se: ServiceEntryView): string | undefined {
  const missing = [
    se.addresses.length === 0 ? 'spec.addresses' : undefined,
    se.endpoints.length === 0 ? 'spec.endpoints' : undefined,
    se.workloadSelector ? undefined : 'spec.workloadSelector',
    se.exportTo ? undefined : 'spec.exportTo',
  ].filter(Boolean);
  return missing.length ? missing.map((field) => `# (no ${field})`).join('\n') : undefined;
}

export function servicePortExcerpt(svc: ServiceView, ports: ServicePortView[]): string {
  const spec: Record<string, unknown> = {};
  if (svc.clusterIPs.length > 0 || svc.headless) spec.clusterIP = svc.headless ? 'None' : svc.clusterIPs[0];
  spec.ports = ports.map((p) => p.raw);
  return toYaml({ spec });
}

export function scopeText(exportTo: string[] | undefined, namespace: string, mesh: MeshConfigView): string {
  const values = exportTo && exportTo.length > 0 ? exportTo : mesh.defaultServiceExportTo;
  if (values.includes('*')) return 'every namespace in the mesh';
  if (values.includes('~')) return 'no namespace';
  const names = values.map((v) => (v === '.' ? namespace : v));
  return `namespace${names.length > 1 ? 's' : ''} ${[...new Set(names)].join(', ')}`;
}
