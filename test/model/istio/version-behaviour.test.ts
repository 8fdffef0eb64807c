import { expect } from 'chai';
import { autoMtlsOnByDefault, httpOn443Breaks, inboundForwardsToPodIp, ist0143Available, parseIstioVersion } from '../../../src/model/istio/version-behaviour.js';

describe('istio/version-behaviour', () => {
  it('parses Istio and ASM version strings', () => {
    expect(parseIstioVersion('1.9.1-asm.1')).to.deep.include({ version: '1.9.1', asm: true });
    expect(parseIstioVersion('docker.io/istio/proxyv2:1.7.3')).to.deep.include({ version: '1.7.3', asm: false });
    expect(parseIstioVersion('1.20')).to.deep.include({ version: '1.20.0' });
    expect(parseIstioVersion('unknown')).to.equal(undefined);
    expect(parseIstioVersion(undefined)).to.equal(undefined);
  });

  const table: Array<[string, string, boolean]> = [
    ['httpOn443', '1.7.8', true],
    ['httpOn443', '1.8.0', false],
    ['httpOn443', '1.9.5-asm.2', true],
    ['httpOn443', '1.10.2-asm.1', false],
    ['inbound', '1.9.9', false],
    ['inbound', '1.10.0', true],
    ['autoMtls', '1.4.10', false],
    ['autoMtls', '1.5.0', true],
    ['ist0143', '1.9.0', false],
    ['ist0143', '1.20.8', true],
    ['ist0143', '1.21.0', false],
  ];
  const fns = { httpOn443: httpOn443Breaks, inbound: inboundForwardsToPodIp, autoMtls: autoMtlsOnByDefault, ist0143: ist0143Available };
  for (const [fact, version, applies] of table) {
    it(`${fact} on ${version}: ${applies}`, () => {
      const b = fns[fact as keyof typeof fns](version);
      expect(b.applies).to.equal(applies);
      expect(b.known).to.equal(true);
      expect(b.because).to.be.a('string').and.not.equal('');
    });
  }

  it('unknown version: known false, applies false, says what it assumes', () => {
    const b = httpOn443Breaks(undefined);
    expect(b).to.include({ applies: false, known: false });
    expect(b.because).to.match(/1\.8/);
  });
});
