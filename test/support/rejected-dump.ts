/**
 * A real sidecar's config dump with its virtualInbound rejected by Envoy, built
 * at test time from a real dump in ../shared (never copied into the repository)
 * by the transformation test/fixtures/config-state/PROVENANCE.md documents:
 * a Lua filter with an empty `default_source_code` first in every HTTP
 * connection manager of virtualInbound, and the listener moved from
 * `active_state` to `error_state` with the real Envoy 1.40 error_state text.
 */
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { REPO_ROOT, SHARED_DATA } from './cli.js';

export const REAL_1_20 = path.join(SHARED_DATA, 'real-config-dumps/istio-1.20.8-hello-openshift.config_dump.json');
const RECORDED = path.join(REPO_ROOT, 'test/fixtures/config-state/envoy-1.40-rejected-lua.config_dump.json');

/** The Lua filter an EnvoyFilter patched in, as Envoy received it (the recorded LDS input). */
export const BAD_LUA_FILTER = {
  name: 'envoy.lua',
  typed_config: { '@type': 'type.googleapis.com/envoy.extensions.filters.http.lua.v3.Lua', default_source_code: {} },
};

/** The error_state real Envoy 1.40 recorded for the same filter (details, last_update_attempt). */
export function recordedErrorState(): { details: string; last_update_attempt: string } {
  const dump = JSON.parse(readFileSync(RECORDED, 'utf8'));
  const listeners = dump.configs.find((c: any) => c['@type'].endsWith('ListenersConfigDump'));
  const rejected = listeners.dynamic_listeners.find((l: any) => l.name === 'virtualInbound');
  return { details: rejected.error_state.details, last_update_attempt: rejected.error_state.last_update_attempt };
}

/** Why the tests using the real dump cannot run, or undefined. */
export function realDumpMissing(): string | undefined {
  return existsSync(REAL_1_20) ? undefined : `the real dump ${path.relative(REPO_ROOT, REAL_1_20)} is not there (../shared/data/real-config-dumps)`;
}

/**
 * Rejects one listener of a parsed config dump in place, as real Envoy records it:
 * the Lua filter first in each of its HTTP connection managers, the listener moved
 * from active_state to error_state with the recorded details.
 */
export function rejectListener(dump: any, name: string): void {
  const listeners = dump.configs.find((c: any) => c['@type'].endsWith('ListenersConfigDump'));
  const entry = listeners.dynamic_listeners.find((l: any) => l.name === name);
  if (!entry?.active_state) throw new Error(`no active listener ${name} to reject`);
  const listener = entry.active_state.listener;
  for (const chain of listener.filter_chains ?? []) {
    for (const filter of chain.filters ?? []) {
      const hcm = filter.typed_config;
      if (filter.name === 'envoy.filters.network.http_connection_manager' && Array.isArray(hcm?.http_filters)) hcm.http_filters.unshift(BAD_LUA_FILTER);
    }
  }
  delete entry.active_state;
  entry.error_state = { failed_configuration: { '@type': 'type.googleapis.com/envoy.config.listener.v3.Listener', ...listener }, ...recordedErrorState() };
}

/** The real 1.20.8 dump with virtualInbound rejected (JSON text). */
export function rejectedVirtualInboundDump(): string {
  const dump = JSON.parse(readFileSync(REAL_1_20, 'utf8'));
  rejectListener(dump, 'virtualInbound');
  return JSON.stringify(dump);
}

/** The EnvoyFilter a user wrote to add that Lua filter (the script left out), selecting `labels` in `namespace`. */
export function luaEnvoyFilter(namespace: string, labels: Record<string, string>, context = 'SIDECAR_INBOUND'): string {
  return [
    'apiVersion: networking.istio.io/v1alpha3',
    'kind: EnvoyFilter',
    'metadata:',
    '  name: lua-auth',
    `  namespace: ${namespace}`,
    'spec:',
    '  workloadSelector:',
    '    labels:',
    ...Object.entries(labels).map(([k, v]) => `      ${k}: ${JSON.stringify(v)}`),
    '  configPatches:',
    '  - applyTo: HTTP_FILTER',
    '    match:',
    `      context: ${context}`,
    '      listener:',
    '        filterChain:',
    '          filter:',
    '            name: envoy.filters.network.http_connection_manager',
    '    patch:',
    '      operation: INSERT_BEFORE',
    '      value:',
    '        name: envoy.lua',
    '        typed_config:',
    "          '@type': type.googleapis.com/envoy.extensions.filters.http.lua.v3.Lua",
    '          defaultSourceCode: {}',
    '',
  ].join('\n');
}

/**
 * A snapshot of the real 1.20.8 sidecar (vanilla-playground/hello-openshift-5b7bcb9b6d-kggwf):
 * its dump (virtualInbound rejected unless `healthy`), a Pod and Service written from the
 * dump's node metadata and inbound listener (app port 8080), and the EnvoyFilter.
 */
export async function realRejectedSnapshot(dir: string, options: { healthy?: boolean } = {}): Promise<{ pod: string }> {
  const { mkdir, writeFile } = await import('node:fs/promises');
  const ns = 'vanilla-playground';
  const name = 'hello-openshift-5b7bcb9b6d-kggwf';
  const proxy = path.join(dir, 'proxies', ns, name);
  await mkdir(proxy, { recursive: true });
  await mkdir(path.join(dir, 'cluster'), { recursive: true });
  await writeFile(path.join(proxy, 'config_dump'), options.healthy ? readFileSync(REAL_1_20, 'utf8') : rejectedVirtualInboundDump());
  const labels = { app: 'hello-openshift', 'security.istio.io/tlsMode': 'istio', 'service.istio.io/canonical-name': 'hello-openshift' };
  const pod = {
    apiVersion: 'v1', kind: 'Pod',
    metadata: { name, namespace: ns, labels, annotations: { 'sidecar.istio.io/status': '{"containers":["istio-proxy"]}' } },
    spec: { containers: [{ name: 'hello-openshift', image: 'openshift/hello-openshift', ports: [{ containerPort: 8080, protocol: 'TCP' }] }, { name: 'istio-proxy', image: 'registry.redhat.io/openshift-service-mesh/proxyv2-rhel8:2.6.7' }] },
    status: { phase: 'Running', podIP: '10.129.0.60', containerStatuses: [{ name: 'hello-openshift', ready: true }, { name: 'istio-proxy', ready: false }] },
  };
  const service = { apiVersion: 'v1', kind: 'Service', metadata: { name: 'hello-openshift', namespace: ns }, spec: { selector: { app: 'hello-openshift' }, clusterIP: '172.30.12.7', ports: [{ name: 'http', port: 8080, targetPort: 8080, protocol: 'TCP' }] } };
  await writeFile(path.join(dir, 'cluster/k8s-resources'), [pod, service].map((o) => JSON.stringify(o)).join('\n---\n') + '\n');
  await writeFile(path.join(dir, 'cluster/crs'), luaEnvoyFilter(ns, { app: 'hello-openshift' }));
  return { pod: `${name}.${ns}` };
}
