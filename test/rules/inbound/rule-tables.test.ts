import { inboundEvidence, appNotOnPodIp, iptablesLoop, peerAddressRule, targetPort, walkedPacketLoops, walkedPacketsEvidence, type WalkedPackets } from '../../../src/rules/inbound/rules.js';
import { inboundWalks } from '../../../src/rules/inbound/iptables-loop.js';
import type { InboundFacts } from '../../../src/rules/inbound/facts.js';
import { ruleTester, type RuleTesterOptions } from '../../support/rule-tester.js';
import { factsOf } from './support.js';

/**
 * The inbound rules through the RuleTester, as why-inbound-fails and check run
 * them: one port's facts read from a fixture of test/fixtures/inbound (its
 * shapes: that folder's PROVENANCE.md), with pieces of evidence dropped for
 * the skipped cases.
 */
type Input = { fixture: string; drop?: Parameters<typeof factsOf>[1] };

const OPTIONS: RuleTesterOptions<Input, InboundFacts, unknown> = {
  model: (input) => ({ model: inboundEvidence(factsOf(input.fixture, input.drop)) }),
  sourcePattern: /^(istioctl|kubectl) /,
};
const DEPLOYMENT = 'Deployment default/app';

describe('inbound rules (RuleTester)', () => {
  ruleTester(appNotOnPodIp, OPTIONS, {
    valid: [
      ...['wildcard-1.20', 'sidecar-default-endpoint-1.20', 'static-1.9-wildcard', 'target-port-match', 'cni-1.20'].map((fixture) => ({ name: fixture, input: { fixture } })),
      { name: 'wildcard-1.20 without sockets: the app answered the sidecar at the pod IP (access log)', input: { fixture: 'wildcard-1.20', drop: ['sockets'] } },
    ],
    invalid: [
      { name: 'localhost-1.20: the app on 127.0.0.1, Istio 1.10+ forwards to the pod IP', input: { fixture: 'localhost-1.20' }, expect: [{ code: 'MD4001', target: DEPLOYMENT, severity: 'error' }] },
      { name: 'static-1.9-localhost: works today, breaks on upgrade', input: { fixture: 'static-1.9-localhost' }, expect: [{ code: 'MD4001', target: DEPLOYMENT, severity: 'warning' }] },
    ],
    skipped: [
      { name: 'neither sockets nor an access log', input: { fixture: 'wildcard-1.20', drop: ['sockets', 'log'] }, because: "neither the pod's listening sockets nor its sidecar's access log are available" },
      { name: 'no sockets, and answered requests that went to 127.0.0.1 (Istio 1.9 STATIC inbound)', input: { fixture: 'static-1.9-wildcard', drop: ['sockets'] }, because: /listening sockets are not available/ },
      { name: 'no sockets: refused lines show the symptom, not which cause', input: { fixture: 'localhost-1.20', drop: ['sockets'] }, because: /could not be read to tell an app on localhost only from nothing listening/ },
    ],
  });

  ruleTester(targetPort, OPTIONS, {
    valid: ['target-port-match', 'wildcard-1.20', 'localhost-1.20'].map((fixture) => ({ name: fixture, input: { fixture } })),
    invalid: [
      { name: 'target-port-mismatch: nothing listens on targetPort', input: { fixture: 'target-port-mismatch' }, expect: [{ code: 'MD4004', target: 'Service default/app', severity: 'error' }] },
      { name: 'target-port-mismatch without sockets to confirm: a warning', input: { fixture: 'target-port-mismatch', drop: ['sockets'] }, expect: [{ code: 'MD4004', target: 'Service default/app', severity: 'warning' }] },
    ],
  });

  ruleTester(iptablesLoop, OPTIONS, {
    valid: ['wildcard-1.20', 'static-1.9-wildcard', 'sidecar-default-endpoint-1.20'].map((fixture) => ({ name: fixture, input: { fixture } })),
    invalid: [{ name: 'iptables-loop-1.20: no 127.0.0.6 RETURN rule', input: { fixture: 'iptables-loop-1.20' }, expect: [{ code: 'MD4005', target: 'Deployment default/app', severity: 'error' }] }],
    skipped: [
      { name: 'no nat table', input: { fixture: 'wildcard-1.20', drop: ['nat'] }, because: /nat table is not available/ },
      { name: 'no config dump: the packet Envoy sends is unknown', input: { fixture: 'wildcard-1.20', drop: ['dump'] }, because: /inbound cluster is not known/ },
    ],
  });

  ruleTester(peerAddressRule, OPTIONS, {
    valid: ['static-1.9-wildcard', 'sidecar-default-endpoint-1.20'].map((fixture) => ({ name: fixture, input: { fixture } })),
    invalid: [{ name: 'wildcard-1.20: peers arrive from 127.0.0.6', input: { fixture: 'wildcard-1.20' }, expect: [{ code: 'MD4002', target: DEPLOYMENT, severity: 'info' }] }],
    skipped: [{ name: 'no config dump', input: { fixture: 'wildcard-1.20', drop: ['dump'] }, because: 'the inbound cluster is not known (no config dump)' }],
  });

  // The iptables command's packets: Envoy's connection to the app as this proxy sends it, marked actual or not (a what-if).
  const walked = (fixture: string, actual = true): WalkedPackets => {
    const facts = factsOf(fixture);
    const forward = inboundWalks(facts).forward!;
    return { pod: facts.pod, nat: facts.nat!, walks: [{ packet: forward.packet, walk: forward, actual }] };
  };
  ruleTester(walkedPacketLoops, { model: (input: WalkedPackets) => ({ model: walkedPacketsEvidence(input) }), sourcePattern: /^(istioctl|kubectl) / }, {
    valid: [
      { name: 'wildcard-1.20: the proxy\'s packet is let through', input: walked('wildcard-1.20') },
      { name: 'iptables-loop-1.20 as a what-if packet: answered, not blamed', input: walked('iptables-loop-1.20', false) },
    ],
    invalid: [{ name: 'iptables-loop-1.20: the proxy\'s own packet comes back to it', input: walked('iptables-loop-1.20'), expect: [{ code: 'MD4005', target: 'Deployment default/app', severity: 'error' }] }],
  });
});
