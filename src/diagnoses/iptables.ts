/**
 * iptables: read a pod's nat table, print it as `iptables -t nat -L -v` does
 * (the layout seed 001 quotes), and walk packets through it rule by rule:
 * the one given with --packet, or by default the inbound path's packets
 * (a peer's connection to the app port; Envoy's connection to the app as
 * Istio 1.10+ sends it, from 127.0.0.6; as Istio before 1.10 sent it, to
 * 127.0.0.1; and seed 001's third case, 127.0.0.1 to the pod IP). A loop is
 * reported (MD4005) for a packet the proxy really sends or for the given one.
 */
import { type MeshDoctorError, usageError } from '../errors.js';
import { parseConfigDump } from '../model/envoy/config-dump.js';
import { formatChains } from '../model/iptables/format.js';
import { formatWalk, parsePacketSpec, verdictText, walkPacket, type Hook, type Packet, type PacketWalk } from '../model/iptables/walk.js';
import type { InboundForwarding } from '../model/inbound.js';
import { servicesSelecting } from '../model/istio/services.js';
import { buildReport, type Report, type VerdictStatus } from '../report/report.js';
import { inboundPacket, proxyToAppPacket } from '../rules/inbound/iptables-loop.js';
import { walkedPacketLoops, walkedPacketsEvidence } from '../rules/inbound/rules.js';
import { runRules } from '../rules/engine.js';
import { forwardingForPort, inboundPorts } from '../rules/inbound/path.js';
import { formatPod, type EvidenceSource, type PodRef } from '../sources/source.js';
import type { Guide, StepRecorder } from './guide.js';
import type { PodView } from '../model/k8s/pods.js';
import type { NatTable } from '../model/iptables/types.js';
import type { Sourced } from '../rules/inbound/facts.js';
import { readNatTable } from './nat-table.js';

export interface WalkData {
  title: string;
  hook: Hook;
  packet: Packet;
  verdict: string;
  loop: boolean;
  /** True for the packet the proxy sends according to its config dump, or the one given with --packet. */
  actual: boolean;
  /** The walk as text, one rule per line. */
  text: string;
}

export interface IptablesData {
  pod: string;
  format?: string;
  source?: string;
  tried: string[];
  /** The chains as `iptables -t nat -L -v` prints them. */
  chains?: string;
  walks: WalkData[];
}

export interface IptablesOptions {
  packet?: string;
  hook?: Hook;
  port?: number;
  numeric?: boolean;
}

export async function iptables(source: EvidenceSource, ref: PodRef, guide: Guide, options: IptablesOptions = {}): Promise<Report<IptablesData>> {
  const given = givenPacket(options);
  const pod = await source.pod(ref);
  const run: IptablesRun = { source, ref, pod, guide, options, data: { pod: formatPod(pod), tried: [], walks: [] }, ...(given ? { given } : {}) };
  const nat = await guide.step("Read the pod's nat table", (step) => readTable(run, step));
  if (nat) {
    await guide.step(given ? 'Walk the packet through the nat table' : "Walk the inbound path's packets through the nat table", async (step) => {
      const packets = given ? [{ title: 'the given packet', packet: given, hook: options.hook ?? guessHook(given, pod.ip), actual: true }] : await inboundPathPackets(run, step);
      walkPackets(run, nat, packets, step);
    });
  }
  return buildReport({ command: 'iptables', subject: `pod ${formatPod(pod)}`, source, transcript: guide, verdict: iptablesVerdict(run, nat !== undefined), data: run.data });
}

/** What the steps share: the run's inputs and the report's data as it fills. */
interface IptablesRun {
  source: EvidenceSource;
  ref: PodRef;
  pod: PodView;
  guide: Guide;
  options: IptablesOptions;
  data: IptablesData;
  /** The packet given with --packet (a what-if question). */
  given?: Packet;
}

/** A packet to walk, and whether this proxy really sends it. */
interface PacketToWalk {
  title: string;
  packet: Packet;
  hook: Hook;
  actual: boolean;
}

/** --packet, parsed: a bad one is a usage error before any cluster call. */
function givenPacket(options: IptablesOptions): Packet | undefined {
  try {
    return options.packet !== undefined ? parsePacketSpec(options.packet) : undefined;
  } catch (error) {
    throw usageError(`--packet: ${(error as Error).message}`, (error as MeshDoctorError).suggestion ?? "Write it like: --packet 'src=127.0.0.6 dst=10.0.0.5:8080 uid=1337 out=lo'");
  }
}

/** 1. The nat table, as `iptables -t nat -L -v` prints it. */
async function readTable(run: IptablesRun, step: StepRecorder): Promise<Sourced<NatTable> | undefined> {
  const { source, pod, guide, options, data } = run;
  const result = await readNatTable(source, pod, step);
  data.tried = result.tried;
  for (const t of result.tried) step.note(t);
  if (!result.nat) {
    guide.skip('iptables-walk', `the nat table is not available: ${result.tried.join('; ')}`, step);
    step.status = 'skipped';
    return undefined;
  }
  const t = result.nat.value;
  data.format = t.format;
  data.source = result.nat.source;
  data.chains = formatChains(t, { numeric: options.numeric ?? false });
  step.note(`${t.chains.size} chains, ${[...t.chains.values()].reduce((n, c) => n + c.rules.length, 0)} rules (${t.format})`);
  for (const n of t.notes) step.note(n);
  if (t.unparsed.length) step.note(`${t.unparsed.length} line(s) not understood, e.g. line ${t.unparsed[0]!.lineNumber}: ${t.unparsed[0]!.text}`);
  return result.nat;
}

/**
 * 2. The inbound path's packets: a peer's connection to the app port, and
 * Envoy's connection to the app in each way Istio has sent it, the one this
 * proxy's config dump shows marked as actual.
 */
async function inboundPathPackets(run: IptablesRun, step: StepRecorder): Promise<PacketToWalk[]> {
  const { source, pod, options } = run;
  const podIp = pod.ip;
  const resources = await source.resources();
  const ports = inboundPorts(pod, servicesSelecting(resources, pod.object), options.port);
  const appPort = ports.find((p) => p.appPort !== undefined)?.appPort ?? options.port;
  if (!podIp || appPort === undefined) {
    step.note(`no ${!podIp ? 'pod IP' : 'app port'} to build packets from; give --packet (and --port)`);
    return [];
  }
  const actual = await actualForwarding(run, appPort, step);
  const packets: PacketToWalk[] = [{ title: `a peer connects to ${podIp}:${appPort} (PREROUTING)`, packet: inboundPacket(podIp, appPort), hook: 'PREROUTING', actual: true }];
  for (const [title, fw] of FORWARDING_CASES) {
    const isActual = actual !== undefined && actual.mode === fw.mode && (fw.mode !== 'original-dst' || actual.sourceAddress === fw.sourceAddress);
    packets.push({ title: `${title}${isActual ? ' — what this proxy does' : ''}`, packet: proxyToAppPacket(fw, podIp, appPort), hook: 'OUTPUT', actual: isActual });
  }
  if (actual && !packets.some((w) => w.actual && w.hook === 'OUTPUT')) {
    packets.push({ title: `Envoy forwards to the app as this proxy does (${actual.type ?? actual.mode})`, packet: proxyToAppPacket(actual, podIp, appPort), hook: 'OUTPUT', actual: true });
  }
  return packets;
}

/** The ways Envoy has forwarded inbound connections to the app (seed 001's three cases). */
const FORWARDING_CASES: ReadonlyArray<[string, InboundForwarding]> = [
  ['Envoy forwards to the app as Istio 1.10+ does (ORIGINAL_DST from 127.0.0.6)', { mode: 'original-dst-127.0.0.6', sourceAddress: '127.0.0.6', inbound: true, explanation: '' }],
  ['Envoy forwards to the app as Istio before 1.10 did (STATIC to 127.0.0.1)', { mode: 'static-localhost', targetAddress: '127.0.0.1', inbound: true, explanation: '' }],
  ['Envoy forwards to the pod IP from 127.0.0.1', { mode: 'original-dst', sourceAddress: '127.0.0.1', inbound: true, explanation: '' }],
];

/** How this proxy forwards the app port, from its config dump, when it can be read. */
async function actualForwarding(run: IptablesRun, appPort: number, step: StepRecorder): Promise<InboundForwarding | undefined> {
  const { source, ref, pod } = run;
  const dumpEvidence = await source.proxy(ref, 'config_dump').catch(() => undefined);
  if (!dumpEvidence) return undefined;
  step.looked(dumpEvidence);
  try {
    const actual = forwardingForPort(parseConfigDump(dumpEvidence.text, `config_dump of ${formatPod(pod)}`), appPort).forwarding;
    if (actual) step.note(`the proxy forwards port ${appPort} like this: ${actual.explanation}`);
    return actual;
  } catch (error) {
    step.note(`config dump unreadable: ${(error as Error).message}`);
    return undefined;
  }
}

/** 3. Each packet through the table; a loop of a packet this proxy really sends is MD4005 (the rule, on the engine). */
function walkPackets(run: IptablesRun, nat: Sourced<NatTable>, packets: readonly PacketToWalk[], step: StepRecorder): void {
  const { guide, pod, given, data } = run;
  const walks = packets.map((w) => {
    const walk: PacketWalk = walkPacket(nat.value, w.packet, { hook: w.hook });
    data.walks.push({ title: w.title, hook: w.hook, packet: w.packet, verdict: verdictText(walk.verdict), loop: walk.loop, actual: w.actual, text: formatWalk(walk) });
    step.note(`${w.title}: ${verdictText(walk.verdict)}${walk.loop ? ' — LOOP' : ''}`);
    return { packet: w.packet, walk, actual: w.actual };
  });
  // A what-if packet (--packet) is answered, not blamed.
  if (given) return;
  const { findings } = runRules([walkedPacketLoops], walkedPacketsEvidence({ pod, nat, walks }));
  for (const f of findings) guide.report(f, step);
}

function iptablesVerdict(run: IptablesRun, haveNat: boolean): { status: VerdictStatus; summary: string } {
  const { guide, pod, given, data } = run;
  if (!haveNat) return { status: 'inconclusive', summary: `The nat table of ${formatPod(pod)} could not be read: ${data.tried.join('; ')}.` };
  if (given) return { status: 'informational', summary: whatIfAnswer(given, data.walks[0]) };
  if (guide.findings.length > 0) return { status: 'problem', summary: `${guide.findings[0]!.message.split('. ')[0]!.replace(/\.$/, '')}; fix: make istio-init/istio-cni and the proxy the same release, so ISTIO_OUTPUT starts with -o lo -s 127.0.0.6/32 -j RETURN.` };
  return { status: 'healthy', summary: `The nat table of ${formatPod(pod)} captures inbound and outbound traffic and lets the proxy's own connections through; ${data.walks.length} packet${data.walks.length === 1 ? '' : 's'} walked.` };
}

/** The answer to --packet: where the given packet ends, and whether it loops back into the proxy. */
function whatIfAnswer(p: Packet, walk: WalkData | undefined): string {
  const packet = `${p.src} -> ${p.dst}${p.dport ? `:${p.dport}` : ''}${p.uid !== undefined ? ` (uid ${p.uid})` : ''}`;
  if (!walk) return `The packet ${packet} was not walked.`;
  return walk.loop
    ? `The packet ${packet} loops: ${walk.verdict}; if the proxy sent it, it would come back to the proxy (MD4005).`
    : `The packet ${packet}: ${walk.verdict}.`;
}

/** A packet with an owner or an out interface leaves the pod (OUTPUT); one with an in interface, or from elsewhere, arrives (PREROUTING). */
export function guessHook(p: Packet, podIp?: string): Hook {
  if (p.inInterface !== undefined) return 'PREROUTING';
  if (p.uid !== undefined || p.gid !== undefined || p.outInterface !== undefined) return 'OUTPUT';
  if (/^127\./.test(p.src) || p.src === '::1' || (podIp !== undefined && p.src === podIp)) return 'OUTPUT';
  return 'PREROUTING';
}
