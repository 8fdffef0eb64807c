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

/** The real 1.20.8 dump with virtualInbound rejected (JSON text). */
export function rejectedVirtualInboundDump(): string {
  const dump = JSON.parse(readFileSync(REAL_1_20, 'utf8'));
  const listeners = dump.configs.find((c: any) => c['@type'].endsWith('ListenersConfigDump'));
  const entry = listeners.dynamic_listeners.find((l: any) => l.name === 'virtualInbound');
  const listener = entry.active_state.listener;
  for (const chain of listener.filter_chains) {
    for (const filter of chain.filters) {
      const hcm = filter.typed_config;
      if (filter.name === 'envoy.filters.network.http_connection_manager' && Array.isArray(hcm?.http_filters)) hcm.http_filters.unshift(BAD_LUA_FILTER);
    }
  }
  delete entry.active_state;
  entry.error_state = { failed_configuration: { '@type': 'type.googleapis.com/envoy.config.listener.v3.Listener', ...listener }, ...recordedErrorState() };
  return JSON.stringify(dump);
}
