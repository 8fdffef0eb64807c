/**
 * What a client sidecar speaks to a destination's endpoints: Istio mTLS, TLS
 * without a client certificate, TLS with other certificates, or plaintext —
 * read from its Envoy cluster, and predicted from the DestinationRule that
 * applies, the mesh's auto mTLS and the Istio version. Incident 5 (seed 004)
 * turns on the difference:
 *
 * - before Istio 1.5 a DestinationRule without `tls` replaced the mesh-wide
 *   `*.local` ISTIO_MUTUAL rule and sent plaintext;
 * - with auto mTLS (default since 1.5, `enableAutoMtls`), a rule without
 *   `tls` still gets ISTIO_MUTUAL to endpoints labelled `tlsMode: istio`;
 * - `tls.mode: DISABLE` or `SIMPLE` sends plaintext / no client certificate
 *   whatever auto mTLS says.
 */
import type { Cluster, ClusterTlsMode } from '../../model/envoy/clusters.js';
import { destinationRules, tlsModeOf, type DestinationRuleLookup, type DestinationRuleView } from '../../model/istio/destination-rule.js';
import type { MeshConfigView } from '../../model/istio/mesh-config.js';
import { autoMtlsOnByDefault, type IstioVersion } from '../../model/istio/version-behaviour.js';
import type { ResourceSet } from '../../model/k8s/resources.js';

export type ClientTransport = 'istio-mtls' | 'tls-without-client-cert' | 'tls-other-cert' | 'plaintext';

export interface AutoMtls {
  on: boolean;
  because: string;
}

export interface ClientTls {
  transport: ClientTransport;
  /** `config`: read from the client's Envoy cluster; `resources`: predicted from the DestinationRule. */
  basis: 'config' | 'resources';
  because: string;
  /** The cluster's TLS in DestinationRule words, when the config dump has the cluster. */
  configMode?: ClusterTlsMode;
  /** The transport the resources predict. */
  predicted: ClientTransport;
  /** The DestinationRule that shapes the cluster. */
  rule?: DestinationRuleView;
  ruleFrom?: 'cluster-metadata' | 'lookup';
  /** `tls.mode` as written in the rule for this port/subset (undefined: the rule has no tls). */
  ruleTlsMode?: string;
  /** Where in the rule the tls came from (`trafficPolicy`, `subsets[v2].trafficPolicy`...). */
  ruleTlsPath?: string;
  /** Rules the chosen one replaced (the mesh-wide `*.local` rule of seed 004). */
  shadowed: DestinationRuleView[];
  autoMtls: AutoMtls;
  /** Set when the config dump and the resources disagree, saying which was believed and why. */
  disagreement?: string;
  assumes: string[];
}

export function autoMtlsState(mesh: MeshConfigView, version: IstioVersion | undefined): AutoMtls {
  const behaviour = autoMtlsOnByDefault(version);
  if (behaviour.known && !behaviour.applies) return { on: false, because: behaviour.because };
  if (!mesh.enableAutoMtls) {
    return { on: false, because: `mesh config sets enableAutoMtls: false${mesh.source ? ` (ConfigMap ${mesh.source.namespace}/${mesh.source.name})` : ''}` };
  }
  return { on: true, because: behaviour.known ? behaviour.because : `enableAutoMtls is on (${mesh.explicit.includes('enableAutoMtls') ? 'set in the mesh config' : 'the default since Istio 1.5'}); Istio version unknown, assumed >= 1.5` };
}

function fromConfig(mode: ClusterTlsMode, endpointIsIstio: boolean): ClientTransport {
  switch (mode) {
    case 'ISTIO_MUTUAL': return 'istio-mtls';
    case 'auto mTLS (istio endpoints)': return endpointIsIstio ? 'istio-mtls' : 'plaintext';
    case 'SIMPLE': return 'tls-without-client-cert';
    case 'MUTUAL': return 'tls-other-cert';
    default: return 'plaintext';
  }
}

function fromRuleMode(mode: string | undefined, auto: AutoMtls, endpointIsIstio: boolean): ClientTransport {
  switch (mode) {
    case 'ISTIO_MUTUAL': return 'istio-mtls';
    case 'MUTUAL': return 'tls-other-cert';
    case 'SIMPLE': return 'tls-without-client-cert';
    case 'DISABLE': return 'plaintext';
    default: return auto.on && endpointIsIstio ? 'istio-mtls' : 'plaintext';
  }
}

export function describeTransport(t: ClientTransport): string {
  switch (t) {
    case 'istio-mtls': return 'Istio mTLS';
    case 'tls-without-client-cert': return 'TLS without a client certificate (SIMPLE)';
    case 'tls-other-cert': return 'TLS with non-Istio certificates (MUTUAL)';
    default: return 'plaintext';
  }
}

export interface ClientTlsInput {
  cluster?: Cluster;
  /** The destination endpoints run a sidecar (EDS `tlsMode: istio`, or the server pod has istio-proxy). */
  endpointIsIstio: boolean;
  lookup: DestinationRuleLookup;
  resources: ResourceSet;
  mesh: MeshConfigView;
  istioVersion?: IstioVersion;
  port?: number;
  subset?: string;
}

export function clientTls(input: ClientTlsInput): ClientTls {
  const auto = autoMtlsState(input.mesh, input.istioVersion);
  const assumes = [auto.because];
  const recorded = input.cluster?.destinationRule;
  let rule: DestinationRuleView | undefined;
  let ruleFrom: ClientTls['ruleFrom'];
  if (recorded) {
    rule = destinationRules(input.resources).find((r) => r.namespace === recorded.namespace && r.name === recorded.name);
    ruleFrom = rule ? 'cluster-metadata' : undefined;
  }
  if (!rule && input.lookup.rule) {
    rule = input.lookup.rule;
    ruleFrom = 'lookup';
  }
  const tls = rule ? tlsModeOf(rule, { port: input.port, subset: input.subset }) : {};
  const predicted = fromRuleMode(tls.mode, auto, input.endpointIsIstio);
  const ruleText = rule
    ? `DestinationRule ${rule.namespace}/${rule.name}${tls.mode ? ` sets tls.mode ${tls.mode} (${tls.from})` : ' has no tls'}`
    : 'no DestinationRule applies';
  const predictedBecause = tls.mode
    ? `${ruleText}`
    : `${ruleText}, and auto mTLS is ${auto.on ? 'on' : 'off'} (${auto.because})${auto.on && !input.endpointIsIstio ? '; the endpoints have no sidecar, so auto mTLS sends plaintext' : ''}`;
  const base = {
    predicted,
    ...(rule ? { rule } : {}),
    ...(ruleFrom ? { ruleFrom } : {}),
    ...(tls.mode ? { ruleTlsMode: tls.mode } : {}),
    ...(tls.from ? { ruleTlsPath: tls.from } : {}),
    shadowed: input.lookup.shadowed,
    autoMtls: auto,
    assumes,
  };
  if (!input.cluster) {
    return { ...base, transport: predicted, basis: 'resources', because: `${predictedBecause} (the client's Envoy cluster was not available)` };
  }
  const configMode = input.cluster.tlsMode;
  const actual = fromConfig(configMode, input.endpointIsIstio);
  const configBecause = `the client's cluster ${input.cluster.name} uses ${configMode}${configMode === 'auto mTLS (istio endpoints)' ? (input.endpointIsIstio ? ' and the endpoints run a sidecar' : ' but the endpoints have no sidecar label') : ''}`;
  if (actual === predicted) {
    return { ...base, transport: actual, basis: 'config', configMode, because: `${configBecause}; ${predictedBecause}` };
  }
  // They disagree. Istio records the rule that shaped a cluster in its metadata; a cluster
  // that names none while a rule applies has not received that rule (yet), so the rule is
  // what the sidecar will do: believe it. A cluster that names its rule is what Envoy does now.
  if (rule && !recorded) {
    return {
      ...base,
      transport: predicted,
      basis: 'resources',
      configMode,
      because: predictedBecause,
      disagreement: `the client's cluster ${input.cluster.name} (${configMode}) names no DestinationRule in its istio metadata although ${rule.namespace}/${rule.name} applies: the rule has not reached this sidecar, or the dump predates it; the verdict follows the rule`,
    };
  }
  return {
    ...base,
    transport: actual,
    basis: 'config',
    configMode,
    because: configBecause,
    disagreement: `the resources predict ${describeTransport(predicted)} (${predictedBecause}) but the sidecar's cluster says ${configMode}; the verdict follows what Envoy is configured with`,
  };
}
