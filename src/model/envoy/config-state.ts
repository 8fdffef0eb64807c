/**
 * Config a proxy has but does not serve: what Envoy rejected (NACKed) and
 * what it has not finished loading (warming). Envoy's admin API records a
 * rejection as `error_state` (UpdateFailureState: `failed_configuration`,
 * `last_update_attempt`, `details`) on dynamic listeners, clusters and route
 * configs (envoy/admin/v3/config_dump_shared.proto), and warming resources in
 * `warming_state` / `dynamic_warming_clusters` / `dynamic_warming_secrets`.
 * Real Envoy 1.40 keeps a listener that never loaded **only** as its
 * `error_state` (test/fixtures/config-state/PROVENANCE.md), so reading only
 * active listeners silently drops it.
 */
import { type JsonObject, obj, objs, str } from './json.js';

export type ConfigProblemKind = 'listener' | 'cluster' | 'route' | 'secret';

export interface ConfigProblem {
  kind: ConfigProblemKind;
  name: string;
  state: 'rejected' | 'warming';
  /** Envoy's reason for a rejection (error_state.details), verbatim. */
  details?: string;
  lastUpdateAttempt?: string;
  /** True when an earlier version is still active (the update failed or is warming); false when nothing serves it. */
  serving: boolean;
  /** The configuration Envoy rejected or is warming, when the dump holds it. */
  config?: JsonObject;
}

function rejection(kind: ConfigProblemKind, name: string, errorState: JsonObject, serving: boolean): ConfigProblem {
  const details = str(errorState, 'details');
  const at = str(errorState, 'last_update_attempt');
  const config = obj(errorState, 'failed_configuration');
  return { kind, name, state: 'rejected', ...(details !== undefined ? { details } : {}), ...(at ? { lastUpdateAttempt: at } : {}), serving, ...(config ? { config } : {}) };
}

function listenerProblems(section: JsonObject | undefined): ConfigProblem[] {
  const out: ConfigProblem[] = [];
  for (const d of objs(section, 'dynamic_listeners')) {
    const name = str(d, 'name') ?? str(obj(obj(d, 'error_state'), 'failed_configuration'), 'name') ?? '?';
    const active = obj(d, 'active_state') !== undefined;
    const errorState = obj(d, 'error_state');
    if (errorState) out.push(rejection('listener', name, errorState, active));
    const warming = obj(obj(d, 'warming_state'), 'listener');
    if (warming && !active) out.push({ kind: 'listener', name, state: 'warming', serving: false, config: warming });
  }
  return out;
}

function clusterProblems(section: JsonObject | undefined): ConfigProblem[] {
  const out: ConfigProblem[] = [];
  const active = new Set(objs(section, 'dynamic_active_clusters').map((d) => str(obj(d, 'cluster'), 'name')));
  for (const key of ['dynamic_active_clusters', 'dynamic_warming_clusters'] as const) {
    for (const d of objs(section, key)) {
      const cluster = obj(d, 'cluster');
      const name = str(cluster, 'name') ?? str(obj(obj(d, 'error_state'), 'failed_configuration'), 'name') ?? '?';
      const errorState = obj(d, 'error_state');
      if (errorState) out.push(rejection('cluster', name, errorState, key === 'dynamic_active_clusters' && cluster !== undefined));
      if (key === 'dynamic_warming_clusters' && !active.has(name)) out.push({ kind: 'cluster', name, state: 'warming', serving: false, ...(cluster ? { config: cluster } : {}) });
    }
  }
  return out;
}

function routeProblems(section: JsonObject | undefined): ConfigProblem[] {
  const out: ConfigProblem[] = [];
  for (const d of objs(section, 'dynamic_route_configs')) {
    const rc = obj(d, 'route_config');
    const errorState = obj(d, 'error_state');
    const name = str(rc, 'name') ?? str(obj(errorState, 'failed_configuration'), 'name') ?? '?';
    if (errorState) out.push(rejection('route', name, errorState, rc !== undefined));
  }
  return out;
}

function secretProblems(section: JsonObject | undefined): ConfigProblem[] {
  // A secret istiod never answers (a gateway's credentialName without its Secret) warms forever (reference/real-envoy.md).
  return objs(section, 'dynamic_warming_secrets').map((d) => ({ kind: 'secret' as const, name: str(d, 'name') ?? '?', state: 'warming' as const, serving: false }));
}

/**
 * Every rejected or warming resource in a dump's sections, listeners first,
 * once each: real Envoy 1.40 lists a listener that never loaded twice, once
 * named and once as a bare error_state (test/fixtures/config-state).
 */
export function readConfigProblems(sections: { listeners?: JsonObject; clusters?: JsonObject; routes?: JsonObject; secrets?: JsonObject }): ConfigProblem[] {
  const all = [...listenerProblems(sections.listeners), ...clusterProblems(sections.clusters), ...routeProblems(sections.routes), ...secretProblems(sections.secrets)];
  const seen = new Set<string>();
  return all.filter((p) => {
    const key = `${p.kind} ${p.name} ${p.state}`;
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
}

/** One line for a transcript or a table: `listener virtualInbound REJECTED: <Envoy's reason, first line that says something>`. */
export function describeProblem(p: ConfigProblem): string {
  const what = `${p.kind} ${p.name}`;
  if (p.state === 'warming') return `${what} WARMING: not ready${p.serving ? ' (an earlier version still serves)' : ', nothing serves it yet'}`;
  return `${what} REJECTED by Envoy${p.serving ? ' (an earlier version still serves)' : ' (nothing serves it)'}: ${reasonOf(p.details)}`;
}

/**
 * Envoy's reason without its debug-string preamble: real 1.40 details start
 * with `goo.gle/debugstr` and the offending proto's text before `: Proto constraint ...`.
 */
export function reasonOf(details: string | undefined): string {
  if (!details) return 'no reason recorded';
  const proto = /(Proto constraint validation failed .*)$/s.exec(details);
  const text = proto ? proto[1]! : details;
  return text.replace(/\s+/g, ' ').trim();
}
