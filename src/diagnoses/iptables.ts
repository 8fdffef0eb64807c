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
import { buildReport, type Report } from '../report/report.js';
import { inboundPacket, loopFinding, proxyToAppPacket } from '../rules/inbound/iptables-loop.js';
import { forwardingForPort, inboundPorts } from '../rules/inbound/path.js';
import { formatPod, type EvidenceSource, type PodRef } from '../sources/source.js';
import type { Guide } from './guide.js';
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
  // A bad --packet is a usage error before any cluster call.
  let given: Packet | undefined;
  try {
    if (options.packet !== undefined) given = parsePacketSpec(options.packet);
  } catch (error) {
    throw usageError(`--packet: ${(error as Error).message}`, (error as MeshDoctorError).suggestion ?? "Write it like: --packet 'src=127.0.0.6 dst=10.0.0.5:8080 uid=1337 out=lo'");
  }
  const pod = await source.pod(ref);
  const data: IptablesData = { pod: formatPod(pod), tried: [], walks: [] };
  const nat = await guide.step("Read the pod's nat table", async (step) => {
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
  });

  if (nat) {
    await guide.step(given ? 'Walk the packet through the nat table' : "Walk the inbound path's packets through the nat table", async (step) => {
      const walks: Array<{ title: string; packet: Packet; hook: Hook; actual: boolean }> = [];
      if (given) {
        walks.push({ title: 'the given packet', packet: given, hook: options.hook ?? guessHook(given, pod.ip), actual: true });
      } else {
        const podIp = pod.ip;
        const resources = await source.resources();
        const ports = inboundPorts(pod, servicesSelecting(resources, pod.object), options.port);
        const appPort = ports.find((p) => p.appPort !== undefined)?.appPort ?? options.port;
        if (!podIp || appPort === undefined) {
          step.note(`no ${!podIp ? 'pod IP' : 'app port'} to build packets from; give --packet (and --port)`);
        } else {
          let actual: InboundForwarding | undefined;
          const dumpEvidence = await source.proxy(ref, 'config_dump').catch(() => undefined);
          if (dumpEvidence) {
            step.looked(dumpEvidence);
            try {
              actual = forwardingForPort(parseConfigDump(dumpEvidence.text, `config_dump of ${formatPod(pod)}`), appPort).forwarding;
              if (actual) step.note(`the proxy forwards port ${appPort} like this: ${actual.explanation}`);
            } catch (error) {
              step.note(`config dump unreadable: ${(error as Error).message}`);
            }
          }
          walks.push({ title: `a peer connects to ${podIp}:${appPort} (PREROUTING)`, packet: inboundPacket(podIp, appPort), hook: 'PREROUTING', actual: true });
          const cases: Array<[string, InboundForwarding]> = [
            ['Envoy forwards to the app as Istio 1.10+ does (ORIGINAL_DST from 127.0.0.6)', { mode: 'original-dst-127.0.0.6', sourceAddress: '127.0.0.6', inbound: true, explanation: '' }],
            ['Envoy forwards to the app as Istio before 1.10 did (STATIC to 127.0.0.1)', { mode: 'static-localhost', targetAddress: '127.0.0.1', inbound: true, explanation: '' }],
            ['Envoy forwards to the pod IP from 127.0.0.1', { mode: 'original-dst', sourceAddress: '127.0.0.1', inbound: true, explanation: '' }],
          ];
          for (const [title, fw] of cases) {
            const isActual = actual !== undefined && actual.mode === fw.mode && (fw.mode !== 'original-dst' || actual.sourceAddress === fw.sourceAddress);
            walks.push({ title: `${title}${isActual ? ' — what this proxy does' : ''}`, packet: proxyToAppPacket(fw, podIp, appPort), hook: 'OUTPUT', actual: isActual });
          }
          if (actual && !walks.some((w) => w.actual && w.hook === 'OUTPUT')) {
            walks.push({ title: `Envoy forwards to the app as this proxy does (${actual.type ?? actual.mode})`, packet: proxyToAppPacket(actual, podIp, appPort), hook: 'OUTPUT', actual: true });
          }
        }
      }
      for (const w of walks) {
        const walk: PacketWalk = walkPacket(nat.value, w.packet, { hook: w.hook });
        data.walks.push({ title: w.title, hook: w.hook, packet: w.packet, verdict: verdictText(walk.verdict), loop: walk.loop, actual: w.actual, text: formatWalk(walk) });
        step.note(`${w.title}: ${verdictText(walk.verdict)}${walk.loop ? ' — LOOP' : ''}`);
        // A what-if packet (--packet) is answered, not blamed: only a packet this proxy really sends is MD4005.
        if (walk.loop && w.actual && !given) {
          const p = w.packet;
          guide.report(loopFinding(pod, nat, walk, `Envoy's connection to the app (${p.src} -> ${p.dst}${p.dport ? `:${p.dport}` : ''}${p.uid !== undefined ? `, uid ${p.uid}` : ''})`), step);
        }
      }
    });
  }

  const loops = guide.findings.length;
  return buildReport({
    command: 'iptables',
    subject: `pod ${formatPod(pod)}`,
    source,
    transcript: guide,
    verdict: !nat
      ? { status: 'inconclusive', summary: `The nat table of ${formatPod(pod)} could not be read: ${data.tried.join('; ')}.` }
      : given
        ? { status: 'informational', summary: whatIfAnswer(given, data.walks[0]) }
        : loops > 0
        ? { status: 'problem', summary: `${guide.findings[0]!.message.split('. ')[0]!.replace(/\.$/, '')}; fix: make istio-init/istio-cni and the proxy the same release, so ISTIO_OUTPUT starts with -o lo -s 127.0.0.6/32 -j RETURN.` }
        : { status: 'healthy', summary: `The nat table of ${formatPod(pod)} captures inbound and outbound traffic and lets the proxy's own connections through; ${data.walks.length} packet${data.walks.length === 1 ? '' : 's'} walked.` },
    data,
  });
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
