/**
 * What the live cluster says about itself before a capture: kubectl client and
 * server versions (also the preflight: an unreachable cluster fails here,
 * before anything is written), and the names — never the credentials — of
 * the kubeconfig context, cluster and user.
 */
import { MeshDoctorError } from '../errors.js';
import { classifyFailure } from '../sources/kubectl.js';
import type { LiveSource } from '../sources/live.js';
import type { CaptureEnvironment } from './capture.js';

/** Failures of `kubectl version` that mean no cluster call can succeed. */
const UNUSABLE = new Set(['unreachable', 'no-context', 'kubectl-missing', 'timeout']);

export async function liveEnvironment(live: LiveSource): Promise<Pick<CaptureEnvironment, 'kube' | 'kubectl'>> {
  const kubectl = live.kubectl;
  const args = ['version', '-o', 'json'];
  const version = await kubectl.run(args, { allowFailure: true, what: 'asking the cluster for its version' });
  const parsed = parseVersionJson(version.stdout);
  if (version.exitCode !== 0) {
    const failure = classifyFailure(kubectl.commandLine(args), version, 'asking the cluster for its version');
    if (UNUSABLE.has(failure.kind)) {
      throw new MeshDoctorError(failure.kind, `nothing could be captured: ${failure.message}`, { suggestion: failure.suggestion, cause: failure });
    }
  }
  // Names only: `config view --minify` with a jsonpath never prints the user's credentials.
  const view = await kubectl.run(
    ['config', 'view', '--minify', '-o', 'jsonpath={.contexts[0].name}{"\\n"}{.contexts[0].context.cluster}{"\\n"}{.contexts[0].context.user}'],
    { allowFailure: true },
  );
  const [context, cluster, user] = view.exitCode === 0 ? view.stdout.split('\n').map((s) => s.trim()) : [];
  return {
    kube: {
      ...(context ? { context } : {}),
      ...(cluster ? { cluster } : {}),
      ...(user ? { user } : {}),
    },
    kubectl: parsed,
  };
}

/** `kubectl version -o json`: clientVersion / serverVersion gitVersion. */
export function parseVersionJson(text: string): { client?: string; server?: string } {
  try {
    const json = JSON.parse(text) as { clientVersion?: { gitVersion?: unknown }; serverVersion?: { gitVersion?: unknown } };
    const client = typeof json.clientVersion?.gitVersion === 'string' ? json.clientVersion.gitVersion : undefined;
    const server = typeof json.serverVersion?.gitVersion === 'string' ? json.serverVersion.gitVersion : undefined;
    return { ...(client ? { client } : {}), ...(server ? { server } : {}) };
  } catch {
    return {};
  }
}
