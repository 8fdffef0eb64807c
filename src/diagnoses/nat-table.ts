/**
 * Where a pod's nat table comes from (incident 2), tried in order:
 * 1. the `istio-init` container's log (istio-iptables prints the rules it
 *    applies and an iptables-save dump);
 * 2. without istio-init (the istio-cni plugin wrote the rules): the log of the
 *    istio-cni node agent on the pod's node (DaemonSet istio-cni-node), the
 *    section that names the pod;
 * 3. `iptables-save -t nat`, then `iptables -t nat -L -v`, in the istio-proxy
 *    container (offline: recorded probes) — usually refused, since the proxy
 *    runs without NET_ADMIN; the refusal is reported.
 */
import { MeshDoctorError } from '../errors.js';
import { parseNatTable } from '../model/iptables/parse.js';
import type { NatTable } from '../model/iptables/types.js';
import type { PodView } from '../model/k8s/pods.js';
import { cniLogSection } from '../rules/inbound/cni-log.js';
import type { Sourced } from '../rules/inbound/facts.js';
import type { EvidenceSource, PodRef } from '../sources/source.js';
import type { StepRecorder } from './guide.js';

const CNI_CONTAINERS = ['install-cni', 'istio-cni', 'cni'];

export interface NatTableResult {
  nat?: Sourced<NatTable>;
  /** One line per place tried and why it gave nothing. */
  tried: string[];
}

export async function readNatTable(source: EvidenceSource, pod: PodView, step: StepRecorder): Promise<NatTableResult> {
  const ref: PodRef = { namespace: pod.namespace, name: pod.name };
  const tried: string[] = [];
  const what = `nat table of ${pod.name}.${pod.namespace}`;

  const parse = (text: string, from: string): NatTable | undefined => {
    try {
      const table = parseNatTable(text, { what: `${what} (${from})` });
      if (!table.chains.has('PREROUTING') && !table.chains.has('OUTPUT') && ![...table.chains.keys()].some((c) => c.startsWith('ISTIO_'))) {
        tried.push(`${from}: no nat chains in it`);
        return undefined;
      }
      return table;
    } catch (error) {
      tried.push(`${from}: ${(error as Error).message}`);
      return undefined;
    }
  };

  const hasInit = pod.initContainers.includes('istio-init');
  if (hasInit || source.mode === 'snapshot') {
    const log = await quietly(() => source.containerLog(ref, 'istio-init'), tried, 'istio-init log');
    if (log) {
      step.looked(log);
      const table = parse(log.text, 'istio-init log');
      if (table) return { nat: { value: table, source: log.source, ...(log.file ? { file: log.file } : {}) }, tried };
    } else if (hasInit) tried.push('istio-init log: not available');
  }
  if (!hasInit) {
    const agents = (await quietly(() => source.pods(), tried, 'pods of the istio-cni DaemonSet') ?? []).filter(isCniAgent);
    const nodeName = pod.object.spec?.nodeName as string | undefined;
    const ordered = [...agents.filter((a) => a.object.spec?.nodeName === nodeName), ...agents.filter((a) => a.object.spec?.nodeName !== nodeName)];
    if (agents.length === 0) tried.push('istio-cni node agent: no pod of DaemonSet istio-cni-node found');
    for (const agent of ordered.slice(0, 3)) {
      const container = agent.containers.find((c) => CNI_CONTAINERS.includes(c)) ?? agent.containers[0];
      if (!container) continue;
      const log = await quietly(() => source.containerLog({ namespace: agent.namespace, name: agent.name }, container), tried, `log of ${agent.namespace}/${agent.name}`);
      if (!log) continue;
      const section = cniLogSection(log.text, pod.name, pod.namespace);
      if (!section) {
        tried.push(`log of ${agent.namespace}/${agent.name}: no section names ${pod.name}`);
        continue;
      }
      step.looked(log);
      const table = parse(section, `istio-cni log of ${agent.name}`);
      if (table) return { nat: { value: table, source: `${log.source} | grep -A60 ${pod.name}`, ...(log.file ? { file: log.file } : {}) }, tried };
    }
  }
  // Then the tools themselves in the proxy container, in both formats the parser reads.
  let refused = false;
  for (const argv of [['iptables-save', '-t', 'nat'], ['iptables', '-t', 'nat', '-L', '-v']]) {
    if (refused) break;
    const label = argv.join(' ');
    const run = await quietly(() => source.run(ref, 'istio-proxy', argv), tried, `${label} in istio-proxy`);
    if (run) {
      step.looked(run);
      if (run.exitCode === 0 && run.text.trim() !== '') {
        const table = parse(run.text, label);
        if (table) return { nat: { value: table, source: run.source, ...(run.file ? { file: run.file } : {}) }, tried };
      } else {
        const why = (run.stderr || run.text).trim().split('\n')[0] ?? '';
        // Without NET_ADMIN every iptables command is refused the same way: do not ask twice.
        refused = /Permission denied|you must be root|Operation not permitted/i.test(why);
        tried.push(`${label} in istio-proxy exited ${run.exitCode}${why ? `: ${why}` : ''} (the proxy runs without NET_ADMIN, so this is usually refused)`);
      }
    } else if (source.mode === 'snapshot') {
      tried.push(`${label}: not recorded in the snapshot (probes/)`);
    }
  }
  return { tried };
}

function isCniAgent(p: PodView): boolean {
  const owners = (p.object.metadata as { ownerReferences?: Array<{ kind?: string; name?: string }> }).ownerReferences ?? [];
  return owners.some((o) => o.kind === 'DaemonSet' && o.name === 'istio-cni-node') || /^istio-cni-node-/.test(p.name);
}

async function quietly<T>(load: () => Promise<T>, tried: string[], what: string): Promise<T | undefined> {
  try {
    return await load();
  } catch (error) {
    const message = error instanceof MeshDoctorError ? error.message : (error as Error).message;
    tried.push(`${what}: ${message.split('\n')[0]}`);
    return undefined;
  }
}
