import type { PodView } from '../model/k8s/pods.js';
import type { ConfigDump } from '../model/envoy/config-dump.js';
import { describeProxyKind, proxyKindFromNodeId, type ProxyKind } from '../model/proxy-kind.js';
import { ExitCode, MeshDoctorError, usageError } from '../errors.js';
import { formatPod, type EvidenceSource, type PodRef } from './source.js';

/**
 * Reads a pod argument the way istioctl does: `name.namespace` splits at the
 * last dot (istioctl's inferPodInfo); `namespace/name` is accepted too; a bare
 * name takes -n, else the source's default namespace.
 */
export function parsePodArgument(argument: string, namespace: string): PodRef {
  const slash = argument.indexOf('/');
  if (slash > 0) return { namespace: argument.slice(0, slash), name: argument.slice(slash + 1) };
  const dot = argument.lastIndexOf('.');
  if (dot > 0 && dot < argument.length - 1) return { name: argument.slice(0, dot), namespace: argument.slice(dot + 1) };
  return { name: argument, namespace };
}

export async function resolvePodArgument(
  source: EvidenceSource,
  argument: string | undefined,
  options: { namespace?: string; requireSidecar: boolean; interactive: boolean; kinds?: readonly ProxyKind[] },
): Promise<PodRef> {
  const namespace = options.namespace ?? source.defaultNamespace;
  if (!argument) {
    if (!options.interactive) throw usageError('a pod is required', 'Pass it as NAME or NAME.NAMESPACE (run without arguments in a terminal to pick one).');
    argument = await pickPod(source, options.namespace);
  }
  const bareName = options.namespace === undefined && !/[./]/.test(argument);
  const { ref, pod } = await findPod(source, parsePodArgument(argument, namespace), bareName);
  // kinds given: checked even where a pod without a proxy is accepted (iptables reads any pod, but no gateway's).
  if (options.requireSidecar || options.kinds) requireProxyKind(formatPod(ref), pod.proxyKind, options.kinds ?? ['sidecar'], 'its pilot-agent arguments');
  if (options.requireSidecar && !pod.hasSidecar) {
    throw new MeshDoctorError('no-sidecar', `pod ${formatPod(ref)} has no istio-proxy container`, {
      suggestion: 'mesh-doctor diagnoses sidecars: pick a pod in the mesh (`kubectl get pods -n NS -l security.istio.io/tlsMode=istio`).',
    });
  }
  if (options.requireSidecar && pod.proxyReady === false && source.mode === 'live') {
    throw new MeshDoctorError('proxy-not-ready', `the istio-proxy container of ${formatPod(ref)} is not ready`, {
      suggestion: `Look at its log first: kubectl logs ${ref.name} -n ${ref.namespace} -c istio-proxy`,
    });
  }
  return ref;
}

/**
 * A bare name not in the default namespace is looked for in every namespace of
 * a snapshot (listing them costs nothing offline): one match is the pod, several
 * are a question.
 */
async function findPod(source: EvidenceSource, ref: PodRef, bareName: boolean): Promise<{ ref: PodRef; pod: PodView }> {
  try {
    return { ref, pod: await source.pod(ref) };
  } catch (error) {
    if (!bareName || source.mode !== 'snapshot' || (error as MeshDoctorError).kind !== 'not-found') throw error;
    const named = (await source.pods()).filter((p) => p.name === ref.name);
    if (named.length === 1) return { ref: { name: ref.name, namespace: named[0].namespace }, pod: named[0] };
    if (named.length === 0) throw error;
    const choices = named.map(formatPod).sort();
    throw new MeshDoctorError('not-found', `${(error as Error).message}; did you mean ${choices.slice(0, -1).join(', ')} or ${choices.at(-1)}?`, {
      suggestion: 'Name the pod with its namespace: NAME.NAMESPACE.',
    });
  }
}

/**
 * Type-to-filter over the sidecar pods (a cluster can have hundreds). Ctrl-C
 * and Esc cancel: a person's choice, so exit 130 without an error message.
 */
async function pickPod(source: EvidenceSource, namespace?: string): Promise<string> {
  const pods = (await source.pods(namespace)).filter((p) => p.hasSidecar).map(formatPod).sort();
  if (pods.length === 0) throw new MeshDoctorError('not-found', `no pods with a sidecar${namespace ? ` in namespace ${namespace}` : ''}`, { suggestion: 'Pass -n NAMESPACE or -A.' });
  const { search } = await import('@inquirer/prompts');
  const escape = new AbortController();
  const onKey = (_text: string, key?: { name?: string }) => { if (key?.name === 'escape') escape.abort(); };
  process.stdin.on('keypress', onKey);
  try {
    return await search({
      message: 'Which pod?',
      source: (term) => pods.filter((p) => !term || p.includes(term.trim())).map((p) => ({ name: p, value: p })),
      pageSize: 15,
    }, { signal: escape.signal });
  } catch (error) {
    // @inquirer/core: ExitPromptError on Ctrl-C, AbortPromptError when the signal fires.
    if (['ExitPromptError', 'AbortPromptError'].includes((error as Error).name)) {
      throw new MeshDoctorError('interrupted', 'no pod picked', { exitCode: ExitCode.interrupted });
    }
    throw error;
  } finally {
    process.stdin.off('keypress', onKey);
  }
}

/**
 * A command diagnoses the proxy kinds it knows (sidecars' virtualInbound and
 * virtualOutbound are not a gateway's or a waypoint's listeners): any other
 * kind is said plainly, exit 1, instead of being diagnosed as a sidecar.
 */
export function requireProxyKind(pod: string, kind: ProxyKind | undefined, supported: readonly ProxyKind[], seenIn: string): void {
  if (!kind || supported.includes(kind)) return;
  throw new MeshDoctorError('unsupported-proxy', `pod ${pod} runs ${describeProxyKind(kind)} (from ${seenIn}), and this command supports ${supported.map(describeProxyKind).join(', ')} only`, {
    suggestion: kind === 'ztunnel' ? 'ztunnel is not Envoy: use istioctl ztunnel-config.' : `Its listeners and routes: kubectl mesh-doctor listeners ${pod}; for a sidecar diagnosis pick an application pod in the mesh.`,
  });
}

/** The same check on the proxy's own word: the node id in its config dump (a pod spec may not say). */
export function requireDumpProxyKind(pod: string, dump: ConfigDump, supported: readonly ProxyKind[] = ['sidecar']): void {
  const id = dump.node?.id;
  requireProxyKind(pod, proxyKindFromNodeId(id), supported, `the node id ${id} in its config dump`);
}
