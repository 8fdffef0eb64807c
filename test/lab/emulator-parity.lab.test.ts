import { expect } from 'chai';
import { pilotAgentRequest, ProxyState } from '../cluster/envoy-admin.js';
import { useLab } from './support.js';

/**
 * The test cluster's emulated Envoy admin (test/cluster/envoy-admin.ts) must
 * answer `pilot-agent request … logging…` exactly as a real Envoy 1.40 sidecar
 * does: the same stdout, stderr and exit code, byte for byte, over a sequence
 * that reads, changes and fails to change the levels. Both start from a fresh
 * sidecar's levels (Istio's -l warning --component-log-level misc:error).
 */
const SEQUENCE = [
  ['POST', 'logging'],
  ['GET', 'logging'],
  ['POST', 'logging?level=debug'],
  ['POST', 'logging?paths=connection:trace,http:info'],
  ['POST', 'logging?router=error'],
  ['POST', 'logging?nosuch=debug'],
  ['POST', 'logging?connection=DEBUG'],
  ['POST', 'logging?paths=connection:'],
  ['POST', 'logging?paths=connection:info,nosuch:debug'],
  ['POST', 'logging?a=debug&b=info'],
  ['POST', 'logging?group=main:debug'],
  ['POST', 'logging?level=warning'],
  ['POST', 'logging?misc=error'],
];

describe('mesh lab: the emulated Envoy /logging answers like real Envoy 1.40', function () {
  this.timeout(60_000);
  const s = useLab('seed004-dr-tls-disable-healthy');

  it('every answer of the sequence is byte-identical (stdout, stderr, exit code)', async () => {
    const pod = s.lab.pods.find((p) => p.envoy)!;
    await s.lab.restartEnvoy(pod); // a fresh sidecar, whatever earlier tests did
    const emulated = new ProxyState(undefined);
    for (const [method, path] of SEQUENCE) {
      const real = await s.lab.exec(pod, 'istio-proxy', ['pilot-agent', 'request', method, path]);
      const emu = pilotAgentRequest({ dir: undefined, rel: 'lab', state: emulated }, [method, path]);
      expect({ stdout: emu.stdout, stderr: emu.stderr, exitCode: emu.exitCode }, `${method} ${path}`).to.deep.equal(real);
    }
  });
});
