/**
 * MD4002 (info): the app sees inbound requests coming from 127.0.0.6.
 *
 * From Istio 1.10 the inbound cluster binds its upstream side to 127.0.0.6
 * (`upstream_bind_config.source_address`), so the app's peer address is
 * 127.0.0.6, no longer 127.0.0.1. The design doc quoted in seed 001: the
 * 127.0.0.6 source lets ISTIO_OUTPUT's first rule (`-o lo -s 127.0.0.6/32 -j
 * RETURN`) short-circuit; without it Envoy's connection to the pod IP matches
 * the uid-1337 `! -d 127.0.0.1/32 -j ISTIO_IN_REDIRECT` rule and loops back
 * into Envoy. Apps that trusted `127.0.0.1/32` as "local" stop doing so
 * (seed 001); 127.0.0.0/8 is the loopback block (RFC 6890).
 */
import { makeFinding } from '../../findings/make.js';
import { ruleToSave } from '../../model/iptables/format.js';
import { walkPacket } from '../../model/iptables/walk.js';
import { proxyToAppPacket, walkExcerpt } from './iptables-loop.js';
import { clusterExcerpt } from './path.js';
import { evidenceOf, outcome, podName, type InboundFacts, type InboundCheck } from './facts.js';
import { workloadOf } from '../../model/k8s/workload.js';

export function peerAddress(facts: InboundFacts): InboundCheck {
  const fw = facts.forwarding?.value;
  if (!fw?.forwarding || !fw.cluster) return outcome([], [], 'the inbound cluster is not known (no config dump)');
  const f = fw.forwarding;
  if (f.mode === 'static-localhost') return outcome([], [`the app sees peers as 127.0.0.1 (STATIC inbound cluster to ${f.targetAddress}:${f.port ?? ''})`]);
  if (f.mode !== 'original-dst-127.0.0.6') return outcome([], [f.explanation]);
  const { pod } = facts;
  const evidence = [evidenceOf(facts.forwarding!, clusterExcerpt(fw.cluster), 'upstream_bind_config.source_address: the address the app sees as the peer')];
  const returnRule = facts.nat?.value.chains.get('ISTIO_OUTPUT')?.rules.find((r) => r.target === 'RETURN' && r.source?.cidr === `${f.sourceAddress}/${f.sourceAddress?.includes(':') ? 128 : 32}` && !r.source.negated);
  if (returnRule && facts.nat) evidence.push(evidenceOf(facts.nat, ruleToSave(returnRule), `ISTIO_OUTPUT rule ${returnRule.position}: lets the proxy's connection from ${f.sourceAddress} reach the app instead of looping back into Envoy`));
  // Why not 127.0.0.1: walk the same connection from 127.0.0.1 through this pod's table (seed 001's third case).
  if (facts.nat && pod.ip && facts.port.appPort !== undefined) {
    const walk = walkPacket(facts.nat.value, proxyToAppPacket({ mode: 'original-dst', sourceAddress: '127.0.0.1', inbound: true, explanation: '' }, pod.ip, facts.port.appPort), { hook: 'OUTPUT' });
    if (walk.loop) evidence.push(evidenceOf(facts.nat, walkExcerpt(walk), 'the same connection from 127.0.0.1 would be redirected back into Envoy: why Istio binds it to 127.0.0.6'));
  }
  return outcome([
    makeFinding('MD4002', {
      message: `The app in ${podName(pod)} sees every request through the sidecar as coming from ${f.sourceAddress}, not 127.0.0.1: code that treats 127.0.0.1/32 as "local" (an admin branch, an allow-list) no longer matches. Envoy binds to ${f.sourceAddress} so that ISTIO_OUTPUT's \`-s ${f.sourceAddress}/32 -o lo -j RETURN\` lets its connection to the pod IP through; from 127.0.0.1 that connection would loop back into Envoy.`,
      target: workloadOf(pod),
      evidence,
      remediation: {
        text: 'If the app trusts the peer address, check the loopback block 127.0.0.0/8 (RFC 6890) instead of 127.0.0.1/32 — in Go `net.ParseCIDR("127.0.0.0/8")`. Better: do not authorize by peer address behind a sidecar at all (every mesh request arrives from loopback); use the mTLS identity with an AuthorizationPolicy. 127.0.0.6 is there so iptables can tell Envoy\'s forwarded connection apart and not redirect it back into Envoy.',
      },
      assumes: ['Istio 1.10+ binds inbound upstream connections to 127.0.0.6 (istio/istio#30226)'],
    }),
  ], [f.explanation]);
}
