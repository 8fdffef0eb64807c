import { MeshDoctorError, usageError } from '../errors.js';
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
  options: { namespace?: string; requireSidecar: boolean; interactive: boolean },
): Promise<PodRef> {
  const namespace = options.namespace ?? source.defaultNamespace;
  if (!argument) {
    if (!options.interactive) throw usageError('a pod is required', 'Pass it as NAME or NAME.NAMESPACE (run without arguments in a terminal to pick one).');
    argument = await pickPod(source, options.namespace);
  }
  const ref = parsePodArgument(argument, namespace);
  const pod = await source.pod(ref);
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

async function pickPod(source: EvidenceSource, namespace?: string): Promise<string> {
  const pods = (await source.pods(namespace)).filter((p) => p.hasSidecar);
  if (pods.length === 0) throw new MeshDoctorError('not-found', `no pods with a sidecar${namespace ? ` in namespace ${namespace}` : ''}`, { suggestion: 'Pass -n NAMESPACE or -A.' });
  const { select } = await import('@inquirer/prompts');
  return select({
    message: 'Which pod?',
    choices: pods.map((p) => ({ name: formatPod(p), value: formatPod(p) })),
  });
}
