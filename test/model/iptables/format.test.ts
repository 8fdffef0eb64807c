import { readFileSync } from 'node:fs';
import { expect } from 'chai';
import { formatChains, ruleToSave } from '../../../src/model/iptables/format.js';
import { parseNatTable } from '../../../src/model/iptables/parse.js';

const fixture = (name: string): string => readFileSync(new URL(`../../fixtures/iptables/${name}`, import.meta.url), 'utf8');

/** Seed 001 lines 160-203 exactly as the seed prints them (the fixture minus our comment lines). */
const seedListing = (): string =>
  fixture('seed-001-nat-L-v.txt')
    .split('\n')
    .filter((l) => !l.startsWith('#'))
    .join('\n');

describe('model/iptables/format', () => {
  it('formatChains prints the seed listing byte for byte from the listing itself', function () {
    expect(formatChains(parseNatTable(seedListing()))).to.equal(seedListing());
  });

  it('formatChains prints the same listing from the iptables-save reconstruction (counters rounded like iptables)', function () {
    expect(formatChains(parseNatTable(fixture('seed-001-nat.iptables-save')))).to.equal(seedListing());
  });

  it('-n and --line-numbers, as iptables prints them', function () {
    const t = parseNatTable(fixture('seed-001-nat.iptables-save'));
    const text = formatChains(t, { numeric: true, lineNumbers: true });
    const lines = text.split('\n');
    const out = lines.indexOf('Chain ISTIO_OUTPUT (1 references)');
    expect(lines[out + 1]).to.equal('num   pkts bytes target     prot opt in     out     source               destination         ');
    expect(lines[out + 2]).to.equal('1        0     0 RETURN     all  --  *      lo      127.0.0.6            0.0.0.0/0           ');
    expect(lines[out + 3]).to.equal('2        0     0 ISTIO_IN_REDIRECT  all  --  *      lo      0.0.0.0/0           !127.0.0.1            owner UID match 1337');
    expect(text).to.include('tcp dpt:22');
    // What -n printed parses back to the same rules.
    const again = parseNatTable(text);
    expect([...again.chains.values()].flatMap((c) => c.rules.map(ruleToSave))).to.deep.equal([...t.chains.values()].flatMap((c) => c.rules.map(ruleToSave)));
  });

  it('without -v: no counters and no interface columns', function () {
    const text = formatChains(parseNatTable(fixture('seed-001-nat.iptables-save')), { verbose: false });
    expect(text).to.include('Chain PREROUTING (policy ACCEPT)\ntarget     prot opt source               destination         \nISTIO_INBOUND  tcp  --  anywhere             anywhere            ');
  });

  it('a builtin chain whose policy the input does not give is printed "ACCEPT?", not passed off as data', function () {
    const text = formatChains(parseNatTable('* nat\n-A OUTPUT -p tcp -j RETURN\nCOMMIT'));
    expect(text.split('\n')[0]).to.equal('Chain OUTPUT (policy ACCEPT? 0 packets, 0 bytes)');
  });
});
