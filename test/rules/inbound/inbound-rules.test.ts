import { expect } from 'chai';
import fc from 'fast-check';
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { parseConfigDump } from '../../../src/model/envoy/config-dump.js';
import { parseNatTable } from '../../../src/model/iptables/parse.js';
import { walkPacket } from '../../../src/model/iptables/walk.js';
import { parseListeningSockets } from '../../../src/model/sockets.js';
import { cniLogSection } from '../../../src/rules/inbound/cni-log.js';
import type { InboundFacts } from '../../../src/rules/inbound/facts.js';
import { iptablesPath, proxyToAppPacket } from '../../../src/rules/inbound/iptables-loop.js';
import { listening } from '../../../src/rules/inbound/listening.js';
import { forwardingForPort } from '../../../src/rules/inbound/path.js';
import { peerAddress } from '../../../src/rules/inbound/peer-address.js';
import { targetPortMismatch } from '../../../src/rules/inbound/target-port.js';
import { REPO_ROOT, SHARED_DATA } from '../../support/cli.js';

import { factsOf, FIXTURES, POD } from './support.js';

const codes = (fs: Array<{ code: string; severity: string; target: { kind: string } }>) => fs.map((f) => `${f.code}/${f.severity}/${f.target.kind}`);

describe('inbound rules (scenario -> findings, healthy twin -> none)', () => {
  const table: Array<{ rule: string; run: (f: InboundFacts) => { findings: any[]; skipped?: string }; invalid: Array<[string, string[]]>; valid: string[] }> = [
    {
      rule: 'listening (MD4001, MD4003)',
      run: listening,
      invalid: [
        ['localhost-1.20', ['MD4001/error/Deployment']],
        ['static-1.9-localhost', ['MD4001/warning/Deployment']],
        ['nothing-listening-1.20', ['MD4003/error/Deployment']],
      ],
      valid: ['wildcard-1.20', 'sidecar-default-endpoint-1.20', 'static-1.9-wildcard', 'target-port-match', 'cni-1.20'],
    },
    {
      rule: 'targetPortMismatch (MD4004)',
      run: targetPortMismatch,
      invalid: [['target-port-mismatch', ['MD4004/error/Service']]],
      valid: ['target-port-match', 'wildcard-1.20', 'localhost-1.20'],
    },
    {
      rule: 'iptablesPath (MD4005)',
      run: iptablesPath,
      invalid: [['iptables-loop-1.20', ['MD4005/error/Deployment']]],
      valid: ['wildcard-1.20', 'static-1.9-wildcard', 'sidecar-default-endpoint-1.20'],
    },
    {
      rule: 'peerAddress (MD4002)',
      run: peerAddress,
      invalid: [['wildcard-1.20', ['MD4002/info/Deployment']]],
      valid: ['static-1.9-wildcard', 'sidecar-default-endpoint-1.20'],
    },
  ];
  for (const { rule, run, invalid, valid } of table) {
    describe(rule, () => {
      for (const [scenario, expected] of invalid) it(`${scenario} -> ${expected.join(', ')}`, () => expect(codes(run(factsOf(scenario)).findings)).to.deep.equal(expected));
      for (const scenario of valid) it(`${scenario} -> none`, () => expect(run(factsOf(scenario)).findings).to.deep.equal([]));
    });
  }

  it('without sockets, a refused access-log line on the inbound cluster still gives MD4003 (sockets unavailable, said so)', () => {
    const r = listening(factsOf('localhost-1.20', ['sockets']));
    expect(codes(r.findings)).to.deep.equal(['MD4003/error/Deployment']);
    expect(r.findings[0].message).to.contain('may listen only on 127.0.0.1');
  });

  it('STATIC to 127.0.0.1 on Istio 1.10+ without a Sidecar defaultEndpoint (PILOT_ENABLE_INBOUND_PASSTHROUGH=false): MD4001 warning', () => {
    const r = listening(factsOf('sidecar-default-endpoint-1.20', ['sidecar']));
    expect(codes(r.findings)).to.deep.equal(['MD4001/warning/Deployment']);
    expect(r.findings[0].message).to.contain('PILOT_ENABLE_INBOUND_PASSTHROUGH=false');
  });

  it('an app bound to [::1] only is localhost-only too (IPv6)', () => {
    const facts = factsOf('localhost-1.20');
    facts.sockets = { value: parseListeningSockets('LISTEN 0      4096           [::1]:8080         [::]:*\n'), source: 'ss' };
    const r = listening(facts);
    expect(codes(r.findings)).to.deep.equal(['MD4001/error/Deployment']);
    expect(r.findings[0].message).to.contain('[::1]:8080');
  });

  it('an app bound to the pod IP is reachable; one bound to another address is not (MD4003)', () => {
    const facts = factsOf('localhost-1.20');
    facts.sockets = { value: parseListeningSockets('LISTEN 0      4096     10.244.1.50:8080      0.0.0.0:*\n'), source: 'ss' };
    expect(listening(facts).findings).to.deep.equal([]);
    facts.sockets = { value: parseListeningSockets('LISTEN 0      4096     10.9.9.9:8080      0.0.0.0:*\n'), source: 'ss' };
    expect(codes(listening(facts).findings)).to.deep.equal(['MD4003/error/Deployment']);
  });

  it('without sockets, requests the app answered at the pod IP (ORIGINAL_DST, via_upstream) pass it; nothing to go on is skipped with a reason', () => {
    const served = listening(factsOf('wildcard-1.20', ['sockets']));
    expect([served.findings, served.skipped]).to.deep.equal([[], undefined]);
    expect(served.notes).to.deep.equal(['port 8080: the app answered 2 requests the sidecar sent to the pod IP (access log; the sockets were not read)']);
    // Pre-1.10, the sidecar dials 127.0.0.1: answered requests say nothing about the pod IP.
    const r = listening(factsOf('static-1.9-wildcard', ['sockets']));
    expect(r.findings).to.deep.equal([]);
    expect(r.skipped).to.match(/listening sockets are not available/);
  });

  it('without a nat table the iptables rule is skipped with a reason', () => {
    expect(iptablesPath(factsOf('wildcard-1.20', ['nat'])).skipped).to.match(/nat table is not available/);
  });

  it('a targetPort without sockets to confirm is only a warning', () => {
    expect(codes(targetPortMismatch(factsOf('target-port-mismatch', ['sockets'])).findings)).to.deep.equal(['MD4004/warning/Service']);
  });
});

describe("seed 001's three cases on the seed's nat table", () => {
  const table = parseNatTable(readFileSync(path.join(REPO_ROOT, 'test/fixtures/iptables/seed-001-nat.iptables-save'), 'utf8'));
  const podIp = '10.244.1.50';
  it('1.9 (STATIC to 127.0.0.1): RETURN, the app is reached on lo', () => {
    const w = walkPacket(table, proxyToAppPacket({ mode: 'static-localhost', targetAddress: '127.0.0.1', inbound: true, explanation: '' }, podIp, 8080), { hook: 'OUTPUT' });
    expect([w.verdict.kind, w.loop]).to.deep.equal(['RETURN', false]);
  });
  it('1.10 (ORIGINAL_DST from 127.0.0.6): RETURN by ISTIO_OUTPUT rule 1', () => {
    const w = walkPacket(table, proxyToAppPacket({ mode: 'original-dst-127.0.0.6', sourceAddress: '127.0.0.6', inbound: true, explanation: '' }, podIp, 8080), { hook: 'OUTPUT' });
    expect(w.verdict.kind).to.equal('RETURN');
    expect(w.verdict.kind === 'RETURN' && w.verdict.returnedBy.position).to.equal(1);
  });
  it('1.10 from 127.0.0.1: back to 15006, a loop', () => {
    const w = walkPacket(table, proxyToAppPacket({ mode: 'original-dst', sourceAddress: '127.0.0.1', inbound: true, explanation: '' }, podIp, 8080), { hook: 'OUTPUT' });
    expect(w.loop).to.equal(true);
    expect(w.verdict.kind === 'REDIRECT' && w.verdict.port).to.equal(15006);
  });
});

describe('the real config dumps (../shared/data/real-config-dumps)', () => {
  const dir = path.join(SHARED_DATA, 'real-config-dumps');
  const cases: Array<[string, number, string, string | undefined]> = [
    ['istio-1.9.1-productpage.config_dump.json', 9080, 'static-localhost', undefined],
    ['istio-1.20.8-hello-openshift.config_dump.json', 8080, 'original-dst-127.0.0.6', '127.0.0.6'],
  ];
  for (const [file, port, mode, source] of cases) {
    it(`${file}: inbound|${port}|| forwards as ${mode}`, function () {
      if (!existsSync(path.join(dir, file))) {
        console.log(`      (skipped: ${path.join(dir, file)} is not here; the real dumps live outside the repository)`);
        this.skip();
      }
      const dump = parseConfigDump(readFileSync(path.join(dir, file), 'utf8'), file);
      const fw = forwardingForPort(dump, port);
      expect(fw.cluster?.name).to.equal(`inbound|${port}||`);
      expect(fw.forwarding?.mode).to.equal(mode);
      expect(fw.forwarding?.sourceAddress).to.equal(source);
      expect(fw.chains.map((c) => c.name)).to.include(`0.0.0.0_${port}`);
    });
  }
});

describe('cniLogSection (the pod\'s part of an istio-cni node agent log)', () => {
  const log = readFileSync(path.join(FIXTURES, 'cni-1.20/proxies/kube-system/istio-cni-node-x7k2p/logs/install-cni.log'), 'utf8');
  it("takes the named pod's section only, which parses to the seed's chains", () => {
    const section = cniLogSection(log, POD, 'default')!;
    expect(section.split('\n')[0]).to.contain(`pod=default/${POD}`);
    expect(section).not.to.contain('ratings-v1');
    expect(section).not.to.contain('reviews-v1');
    const t = parseNatTable(section);
    expect(t.chains.get('ISTIO_OUTPUT')!.rules).to.have.length(11);
  });
  it('is undefined for a pod the log does not name', () => {
    expect(cniLogSection(log, 'nope-123', 'default')).to.equal(undefined);
  });
  it('never throws, and returns a slice of the input that names the pod', () => {
    fc.assert(fc.property(fc.array(fc.oneof(fc.string(), fc.constantFrom('* nat', 'COMMIT', `pod=${POD}`, '-A ISTIO_OUTPUT -j RETURN', '*filter')), { maxLength: 40 }), (lines) => {
      const text = lines.join('\n');
      const s = cniLogSection(text, POD);
      if (s !== undefined) {
        expect(text).to.contain(s);
        expect(s.split('\n')[0]).to.contain(POD);
      }
    }), { numRuns: 300 });
  });
});
