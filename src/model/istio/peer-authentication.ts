import type { KubeObject, ObjectRef, ResourceSet } from '../k8s/resources.js';
import { asArray, asLabels, asNumber, asRecord, asString, byAge, labelsMatch, namespaceOf, refFor, type Labels } from './common.js';
import { DEFAULT_MESH_CONFIG, type MeshConfigView } from './mesh-config.js';

export type MtlsMode = 'STRICT' | 'PERMISSIVE' | 'DISABLE' | 'UNSET';
export type EffectiveMtlsMode = Exclude<MtlsMode, 'UNSET'>;

export interface PeerAuthenticationView {
  kind: 'PeerAuthentication';
  namespace: string;
  name: string;
  /** undefined or empty: namespace-wide (or mesh-wide in the root namespace). */
  selector?: Labels;
  /** `mtls.mode`; absent = UNSET (inherit). */
  mode: MtlsMode;
  /** `portLevelMtls`, keyed by the workload's (container) port. */
  portLevel: Record<number, MtlsMode>;
  ref: ObjectRef;
  object: KubeObject;
}

function modeOf(value: unknown): MtlsMode {
  const mode = asString(asRecord(value)?.mode);
  return mode === 'STRICT' || mode === 'PERMISSIVE' || mode === 'DISABLE' ? mode : 'UNSET';
}

export function peerAuthenticationView(object: KubeObject): PeerAuthenticationView {
  const namespace = namespaceOf(object);
  const spec = asRecord(object.spec) ?? {};
  const selector = asLabels(asRecord(spec.selector)?.matchLabels);
  const portLevel: Record<number, MtlsMode> = {};
  const ports = asRecord(spec.portLevelMtls);
  if (ports) {
    for (const [key, value] of Object.entries(ports)) {
      const port = asNumber(key);
      if (port !== undefined) portLevel[port] = modeOf(value);
    }
  }
  return {
    kind: 'PeerAuthentication',
    namespace,
    name: String(object.metadata?.name ?? ''),
    ...(selector && Object.keys(selector).length > 0 ? { selector } : {}),
    mode: modeOf(spec.mtls),
    portLevel,
    ref: refFor(object, namespace),
    object,
  };
}

export interface MtlsStep {
  level: 'default' | 'mesh' | 'namespace' | 'workload' | 'port' | 'legacy-mesh' | 'legacy-namespace';
  mode: MtlsMode;
  ref?: ObjectRef;
}

export interface EffectiveMtls {
  mode: EffectiveMtlsMode;
  /** The resource whose setting decided the mode; undefined for the built-in default. */
  decidedBy?: ObjectRef;
  /** Every level consulted, broad to narrow, UNSET included. */
  chain: MtlsStep[];
  /** True when the answer comes from pre-1.5 MeshPolicy/Policy objects. */
  legacy: boolean;
  because: string;
}

/**
 * The mTLS mode a workload's sidecar enforces on an inbound port, following
 * ComposePeerAuthentication (pilot/pkg/security/authn/policy_applier.go):
 * start PERMISSIVE; the mesh policy (root namespace, no selector), then the
 * namespace policy (no selector), then the workload policy (selector, not in
 * the root namespace), then its portLevelMtls for the port each override the
 * mode unless UNSET. Within a level the oldest policy wins.
 *
 * When no PeerAuthentication applies, pre-1.5 authentication.istio.io/v1alpha1
 * objects are read (seed 004's era): MeshPolicy `default` and namespace
 * Policy `default` with `peers: [{mtls: {}}]` mean STRICT (`mtls: {mode: PERMISSIVE}`
 * means PERMISSIVE). They are legacy: Istio 1.6 removed them.
 */
export function effectiveMtls(
  set: ResourceSet,
  workload: { namespace: string; labels?: Labels },
  port?: number,
  options: { mesh?: MeshConfigView } = {},
): EffectiveMtls {
  const root = (options.mesh ?? DEFAULT_MESH_CONFIG).rootNamespace;
  const labels = workload.labels ?? {};
  const policies = set.of('PeerAuthentication').map(peerAuthenticationView);
  const mesh = policies.filter((p) => p.namespace === root && !p.selector).sort(byAge)[0];
  const namespace = workload.namespace === root ? undefined : policies.filter((p) => p.namespace === workload.namespace && !p.selector).sort(byAge)[0];
  const workloadPolicy = workload.namespace === root
    ? undefined
    : policies.filter((p) => p.namespace === workload.namespace && p.selector && labelsMatch(p.selector, labels)).sort(byAge)[0];

  if (!mesh && !namespace && !workloadPolicy) {
    const legacy = legacyMtls(set, workload.namespace);
    if (legacy) return legacy;
  }

  const chain: MtlsStep[] = [{ level: 'default', mode: 'PERMISSIVE' }];
  let mode: EffectiveMtlsMode = 'PERMISSIVE';
  let decidedBy: ObjectRef | undefined;
  let decidedAt = 'the default (no PeerAuthentication applies)';
  const apply = (level: MtlsStep['level'], value: MtlsMode, policy: PeerAuthenticationView, where: string): void => {
    chain.push({ level, mode: value, ref: policy.ref });
    if (value !== 'UNSET') {
      mode = value;
      decidedBy = policy.ref;
      decidedAt = `PeerAuthentication ${policy.namespace}/${policy.name} (${where})`;
    }
  };
  if (mesh) apply('mesh', mesh.mode, mesh, 'mesh-wide');
  if (namespace) apply('namespace', namespace.mode, namespace, `namespace ${namespace.namespace}`);
  if (workloadPolicy) {
    apply('workload', workloadPolicy.mode, workloadPolicy, `selector ${JSON.stringify(workloadPolicy.selector)}`);
    if (port !== undefined && workloadPolicy.portLevel[port] !== undefined) {
      apply('port', workloadPolicy.portLevel[port], workloadPolicy, `portLevelMtls ${port}`);
    }
  }
  return { mode, ...(decidedBy ? { decidedBy } : {}), chain, legacy: false, because: `${mode} from ${decidedAt}` };
}

function legacyMode(spec: Record<string, unknown>): EffectiveMtlsMode | undefined {
  for (const peer of asArray(spec.peers)) {
    const record = asRecord(peer);
    if (!record || !('mtls' in record)) continue;
    // `mtls: {}` or `mtls: null` is STRICT; `mode: PERMISSIVE` relaxes it.
    const mtls = asRecord(record.mtls);
    return asString(mtls?.mode) === 'PERMISSIVE' ? 'PERMISSIVE' : 'STRICT';
  }
  return undefined;
}

function legacyMtls(set: ResourceSet, namespace: string): EffectiveMtls | undefined {
  // Namespace-wide Policy `default` (no targets) overrides the MeshPolicy.
  const nsPolicy = set.of('Policy').find((o) => namespaceOf(o) === namespace && o.metadata?.name === 'default' && asArray(asRecord(o.spec)?.targets).length === 0);
  const meshPolicy = set.of('MeshPolicy').find((o) => o.metadata?.name === 'default') ?? set.of('MeshPolicy')[0];
  const chain: MtlsStep[] = [{ level: 'default', mode: 'PERMISSIVE' }];
  let result: { mode: EffectiveMtlsMode; ref: ObjectRef; level: string } | undefined;
  if (meshPolicy) {
    const mode = legacyMode(asRecord(meshPolicy.spec) ?? {});
    chain.push({ level: 'legacy-mesh', mode: mode ?? 'UNSET', ref: refFor(meshPolicy) });
    // A MeshPolicy without peers means no mTLS requirement (plaintext).
    result = { mode: mode ?? 'DISABLE', ref: refFor(meshPolicy), level: 'MeshPolicy (mesh-wide)' };
  }
  if (nsPolicy) {
    const mode = legacyMode(asRecord(nsPolicy.spec) ?? {});
    chain.push({ level: 'legacy-namespace', mode: mode ?? 'UNSET', ref: refFor(nsPolicy) });
    result = { mode: mode ?? 'DISABLE', ref: refFor(nsPolicy), level: `Policy ${namespace}/default (namespace-wide)` };
  }
  if (!result) return undefined;
  return {
    mode: result.mode,
    decidedBy: result.ref,
    chain,
    legacy: true,
    because: `${result.mode} from the legacy ${result.level} (authentication.istio.io/v1alpha1, Istio < 1.6)`,
  };
}
