import { expect } from 'chai';
import path from 'node:path';
import { REPO_ROOT, runCli } from '../support/cli.js';
import { requireKubectl, startE2E, verdictOf } from '../support/e2e.js';
import { removeAll, snapshotWithout } from '../support/partial-snapshot.js';

/**
 * Each seed's own diagnosis gives the same verdict live, through the real
 * kubectl against the test cluster serving the seed's snapshot, as offline on
 * that snapshot (principle 3: one code path; issue "no false health": live ==
 * offline). check -A is compared the same way in check-seeds.e2e.test.ts. The
 * snapshots are the oracle's (test/scenarios/<name>/scenario.yaml) or the
 * fixtures built on them (test/fixtures/{check,egress,inbound}/PROVENANCE.md).
 */
const SEEDS: Array<{ name: string; dir: string; args: string[]; exit: number; without?: string[] }> = [
  { name: 'seed000 who-owns-443', dir: 'test/scenarios/seed000-port-443-named-http/snapshot', args: ['who-owns-443', '-A'], exit: 0 },
  { name: 'seed000 why-https-fails (Istio 1.7)', dir: 'test/fixtures/egress/seed000-istio-1.7-http-on-443', args: ['why-https-fails', 'web-6d4cf56db6-x2pnq.team-b', '--host', 'www.google.com'], exit: 3 },
  { name: 'seed001 why-inbound-fails', dir: 'test/fixtures/check/seed001-app-on-localhost', args: ['why-inbound-fails', 'app-5f7b9c6d8-q7w2e.default'], exit: 3 },
  { name: 'iptables loop', dir: 'test/fixtures/inbound/iptables-loop-1.20', args: ['iptables', 'app-5f7b9c6d8-q7w2e.default'], exit: 3 },
  { name: 'seed002 why-502', dir: 'test/fixtures/check/seed002-registry-only-unregistered', args: ['why-502', 'ubuntu-deployment-54bbd6f4ff-q9sdj.default', '--host', 'httpbin.org'], exit: 3 },
  { name: 'seed003 who-owns-443', dir: 'test/scenarios/seed003-se-no-addresses-tcp/snapshot', args: ['who-owns-443', 'sample-c59f744df-8kq7m.istio-demo'], exit: 3 },
  { name: 'seed004 why-503', dir: 'test/scenarios/seed004-dr-tls-disable/snapshot', args: ['why-503', 'sleep-5b597748b4-77kj5.foo', '--to', 'httpbin:8000'], exit: 3 },
  { name: 'authz why-403', dir: 'test/scenarios/authz-deny-before-allow/snapshot', args: ['why-403', 'sleep-5b597748b4-77kj5.foo', '--to', 'httpbin:8000', '--path', '/headers'], exit: 3 },
  { name: 'gateway why-404', dir: 'test/scenarios/gw-vs-wrong-gateway-namespace/snapshot', args: ['why-404', 'istio-ingressgateway-7d4f8b6c9-h5k2m.istio-system', '--host', 'httpbin.example.com'], exit: 3 },
  // Partial evidence: no config dump in the snapshot is, live, a proxy whose config_dump cannot be read.
  { name: 'seed004 why-503 without dumps', dir: 'test/fixtures/why-503/seed004-dr-tls-disable-no-client-dump', args: ['why-503', 'sleep-5b597748b4-77kj5.foo', '--to', 'httpbin:8000'], exit: 3 },
  { name: 'seed004 why-inbound-fails without dumps', dir: 'test/fixtures/why-503/seed004-dr-tls-disable-no-client-dump', args: ['why-inbound-fails', 'httpbin-94fdb8c79-h9zrq.foo'], exit: 3 },
  { name: 'authz why-403 without dumps', dir: 'test/scenarios/authz-deny-before-allow/snapshot', args: ['why-403', 'sleep-5b597748b4-77kj5.foo', '--to', 'httpbin:8000', '--path', '/headers'], exit: 3, without: ['proxies/foo/httpbin-94fdb8c79-h9zrq/config_dump?include_eds', 'proxies/foo/sleep-5b597748b4-77kj5/config_dump?include_eds'] },
  { name: 'seed003 why-https-fails without a dump', dir: 'test/scenarios/seed003-se-no-addresses-tcp-healthy/snapshot', args: ['why-https-fails', 'sample-c59f744df-8kq7m.istio-demo', '--host', 'baidu.com'], exit: 4, without: ['proxies/istio-demo/sample-c59f744df-8kq7m/config_dump?include_eds'] },
  { name: 'seed003 who-owns-443 without a dump', dir: 'test/fixtures/who-owns-443/seed003-se-no-addresses-tls-no-dump', args: ['who-owns-443', '-A'], exit: 4 },
];

describe('each seed\'s diagnosis live on the test cluster: the same verdict as offline', function () {
  this.timeout(240_000);
  const dirs: string[] = [];
  before(function () {
    requireKubectl(this);
  });
  after(() => removeAll(dirs));

  for (const { name, dir, args, exit, without } of SEEDS) {
    it(`${name}: exit ${exit} both ways, the same findings`, async () => {
      const snapshot = without ? await snapshotWithout(path.join(REPO_ROOT, dir), without, dirs) : path.join(REPO_ROOT, dir);
      const offline = await runCli([...args, '--from', snapshot, '-o', 'json']);
      const e2e = await startE2E({ snapshotDir: snapshot });
      try {
        const live = await e2e.kubectl([...args, '-o', 'json']);
        expect(offline.exitCode, offline.stderr).to.equal(exit);
        expect(verdictOf(live)).to.deep.equal(verdictOf(offline));
      } finally {
        await e2e.stop();
      }
    });
  }
});
