import { expect } from 'chai';
import fc from 'fast-check';
import { cidrContains, parseIp } from '../../../src/model/outbound/ip.js';

describe('outbound: IP arithmetic', () => {
  it('parses IPv4 and IPv6', () => {
    expect(parseIp('10.96.120.15')).to.deep.equal({ family: 4, value: 0x0a60780fn });
    expect(parseIp('::1')?.value).to.equal(1n);
    expect(parseIp('::ffff:10.0.0.1')?.value).to.equal(0xffff0a000001n);
    expect(parseIp('256.1.1.1')).to.equal(undefined);
    expect(parseIp('1:2:3')).to.equal(undefined);
  });
  it('contains: prefixes, /0, families', () => {
    expect(cidrContains('10.96.0.0', 16, '10.96.120.15')).to.equal(true);
    expect(cidrContains('10.96.0.0', 16, '10.97.0.1')).to.equal(false);
    expect(cidrContains('0.0.0.0', 0, '8.8.8.8')).to.equal(true);
    expect(cidrContains('::', 0, '8.8.8.8')).to.equal(false);
    expect(cidrContains('fd00::', 8, 'fd12::1')).to.equal(true);
  });
  it('never throws on arbitrary text, and an address is inside its own /32', () => {
    fc.assert(fc.property(fc.string(), (s) => { parseIp(s); cidrContains(s, 8, s); return true; }));
    fc.assert(fc.property(fc.ipV4(), (ip) => cidrContains(ip, 32, ip) && parseIp(ip)?.family === 4));
    fc.assert(fc.property(fc.ipV6(), (ip) => parseIp(ip)?.family === 6 && cidrContains(ip, 128, ip)));
  });
});
