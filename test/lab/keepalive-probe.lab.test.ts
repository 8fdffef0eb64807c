import { expect } from 'chai';
import { useLab } from './support.js';

/**
 * why-503 --probe on real Envoys and a real app (issue 16): in the
 * keep-alive-race scenario httpbin's app is Node 20 with keepAliveTimeout
 * 1 s. The probe asks the app itself (curl from httpbin's istio-proxy
 * container, which iptables does not redirect) and reads its real
 * `Keep-Alive: timeout=1`; with no reset logged, no race is claimed.
 */
const DIAGNOSE = ['why-503', 'sleep-5b597748b4-77kj5.foo', '--to', 'httpbin:8000', '--probe', '-o', 'json'];

describe('mesh lab: keepalive-race (real Envoy, why-503 --probe)', function () {
  this.timeout(120_000);
  const s = useLab('keepalive-race');

  it("one request, then the live probe: the app's own keep-alive is read; no reset, so no race is claimed", async () => {
    const sent = await s.lab.exec(s.lab.pod('foo', 'sleep-5b597748b4-77kj5'), 'sleep', ['curl', '-sS', '-o', '/dev/null', '-w', '%{http_code}', 'http://httpbin:8000/headers']);
    expect(sent.stdout).to.equal('200');
    const r = await s.e2e.kubectl(DIAGNOSE);
    expect(r.exitCode, r.stderr).to.equal(0);
    const report = JSON.parse(r.stdout);
    expect(report.data.appKeepAlive).to.deep.include({ ms: 1000, excerpt: '< Keep-Alive: timeout=1' });
    expect(report.data.appKeepAlive.source).to.equal('kubectl exec httpbin-94fdb8c79-h9zrq -n foo -c istio-proxy -- curl -sv -o /dev/null --max-time 5 http://localhost:8080/headers');
    expect(report.findings.filter((f: { code: string }) => f.code === 'MD3009')).to.deep.equal([]);
  });
});
