import { expect } from 'chai';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { accessLines, eventually, useLab } from './support.js';

/**
 * Seeds 001-003 on real Envoys, each broken scenario beside its healthy twin:
 * real traffic from inside the pods (what the client saw, what the sidecar
 * logged), then the live diagnosis through the real kubectl (culprit, exit
 * code), and for the broken ones a snapshot diagnosed offline with the same
 * verdict.
 */
interface Case {
  scenario: string;
  /** What the client saw (stdout+stderr) and the line the pod named by `logBy` logged. */
  saw: RegExp;
  logBy: { ns: string; pod: string };
  logged: RegExp;
  diagnose: string[];
  /** `CODE Kind ns/name` of the error finding, or undefined for a healthy twin (exit 0, no error). */
  culprit?: string;
}

const SAMPLE = { ns: 'istio-demo', pod: 'sample-c59f744df-8kq7m' };
const UBUNTU = { ns: 'default', pod: 'ubuntu-deployment-54bbd6f4ff-q9sdj' };
const APP = { ns: 'default', pod: 'app-5f7b9c6d8-q7w2e' };
const WEB = { ns: 'team-b', pod: 'web-6d4cf56db6-x2pnq' };
const SLEEP = { ns: 'foo', pod: 'sleep-5b597748b4-77kj5' };
const SERVER = { ns: 'foo', pod: 'httpbin-94fdb8c79-h9zrq' };
const CASES: Case[] = [
  {
    scenario: 'seed003-sidecar-hides-external-se',
    saw: /SSL: no alternative certificate subject name matches target host name 'www\.baidu\.com'/,
    logBy: SAMPLE, logged: /"10\.244\.2\.50:443" outbound\|443\|\|traefik\.cutom-name /,
    diagnose: ['why-https-fails', `${SAMPLE.pod}.${SAMPLE.ns}`, '--host', 'www.baidu.com', '--probe'],
    culprit: 'MD1002 ServiceEntry istio-demo/traefik-cutom-name', // the scenario's entry lives in the client's namespace (the Sidecar shows only ./*)
  },
  {
    scenario: 'seed003-sidecar-hides-external-se-healthy',
    saw: /subject: CN=www\.baidu\.com[\s\S]*< HTTP\/1\.1 200 OK/,
    logBy: SAMPLE, logged: /"203\.0\.113\.21:443" /,
    diagnose: ['why-https-fails', `${SAMPLE.pod}.${SAMPLE.ns}`, '--host', 'www.baidu.com', '--probe'],
  },
  {
    scenario: 'seed004-dr-no-tls-automtls-off',
    saw: /< HTTP\/1\.1 503 Service Unavailable/,
    logBy: SERVER, logged: /"- - -" 0 NR filter_chain_not_found /,
    diagnose: ['why-503', `${SLEEP.pod}.${SLEEP.ns}`, '--to', 'httpbin:8000'],
    culprit: 'MD3001 DestinationRule foo/httpbin',
  },
  {
    scenario: 'seed004-dr-no-tls-automtls-off-healthy',
    saw: /< HTTP\/1\.1 200 OK/,
    logBy: SERVER, logged: /" 200 - via_upstream .* inbound\|8080\|\| 127\.0\.0\.6:\d+ .* outbound_\.8000_\._\.httpbin\.foo\.svc\.cluster\.local default$/,
    diagnose: ['why-503', `${SLEEP.pod}.${SLEEP.ns}`, '--to', 'httpbin:8000'],
  },
  {
    // What a TLS client gets from the pre-1.8 shape on today's Envoy: the HTTP codec reads the ClientHello.
    scenario: 'seed000-http-on-443-pre-1.8',
    saw: /curl: \(35\) .*wrong version number/,
    logBy: WEB, logged: /"- - HTTP\/1\.1" 400 DPE http1\.codec_error .* 203\.0\.113\.30:443 10\.244\.2\.21:\d+ /,
    diagnose: ['why-https-fails', `${WEB.pod}.${WEB.ns}`, '--host', 'www.google.com', '--probe'],
    culprit: 'MD1001 Service default/my-app',
  },
  {
    scenario: 'seed000-http-on-443-current',
    saw: /subject: CN=www\.google\.com[\s\S]*< HTTP\/1\.1 200 OK/,
    logBy: WEB, logged: /"203\.0\.113\.30:443" PassthroughCluster /,
    diagnose: ['why-https-fails', `${WEB.pod}.${WEB.ns}`, '--host', 'www.google.com', '--probe'],
  },
  {
    scenario: 'seed003-se-no-addresses-tcp',
    saw: /SSL: no alternative certificate subject name matches target host name 'baidu\.com'/,
    // Real Envoy: a tcp_proxy line with no response flag, to the catch-all's backend.
    logBy: SAMPLE, logged: /^\[[^\]]+\] "- - -" 0 - - - "-" \d+ \d+ \d+ - "-" "-" "-" "-" "10\.244\.2\.50:443" outbound\|443\|\|traefik\.cutom-name /,
    diagnose: ['why-https-fails', `${SAMPLE.pod}.${SAMPLE.ns}`, '--host', 'baidu.com', '--probe'],
    culprit: 'MD1002 ServiceEntry abc/traefik-cutom-name',
  },
  {
    scenario: 'seed003-se-no-addresses-tcp-healthy',
    saw: /subject: CN=baidu\.com[\s\S]*< HTTP\/1\.1 200 OK/,
    logBy: SAMPLE, logged: /"203\.0\.113\.20:443" PassthroughCluster /,
    diagnose: ['why-https-fails', `${SAMPLE.pod}.${SAMPLE.ns}`, '--host', 'baidu.com', '--probe'],
  },
  {
    scenario: 'seed002-registry-only-unregistered',
    saw: /< HTTP\/1\.1 502 Bad Gateway/,
    logBy: UBUNTU, logged: /"GET \/headers HTTP\/1\.1" 502 - direct_response .* "httpbin\.org" "-" - - /,
    diagnose: ['why-502', `${UBUNTU.pod}.${UBUNTU.ns}`, '--host', 'httpbin.org'],
    culprit: 'MD2001 ConfigMap istio-system/istio',
  },
  {
    scenario: 'seed002-registry-only-unregistered-healthy',
    saw: /< HTTP\/1\.1 200 OK/,
    logBy: UBUNTU, logged: /" 200 - via_upstream .* "203\.0\.113\.10:80" outbound\|80\|\|httpbin\.org /,
    diagnose: ['why-502', `${UBUNTU.pod}.${UBUNTU.ns}`, '--host', 'httpbin.org'],
  },
  {
    scenario: 'seed001-app-on-localhost',
    saw: /< HTTP\/1\.1 503 Service Unavailable/,
    logBy: APP, logged: /" 503 URX,UF upstream_reset_before_response_started\{remote_connection_failure\|delayed_connect_error:_Connection_refused\} .* inbound\|8080\|\| - 10\.244\.1\.50:8080 10\.244\.1\.60:\d+ /,
    diagnose: ['why-inbound-fails', `${APP.pod}.${APP.ns}`, '--port', '8080'],
    culprit: 'MD4001 Pod default/app-5f7b9c6d8-q7w2e',
  },
  {
    scenario: 'seed001-app-on-localhost-pre-1.10',
    saw: /"peer": "127\.0\.0\.1:\d+"/,
    logBy: APP, logged: /" 200 - via_upstream .* "127\.0\.0\.1:8080" inbound\|8080\|\| 127\.0\.0\.1:\d+ 10\.244\.1\.50:8080 10\.244\.1\.60:\d+ /,
    diagnose: ['why-inbound-fails', `${APP.pod}.${APP.ns}`, '--port', '8080'],
  },
  {
    scenario: 'seed001-app-on-all-interfaces',
    saw: /"peer": "127\.0\.0\.6:\d+"/,
    logBy: APP, logged: /" 200 - via_upstream .* inbound\|8080\|\| 127\.0\.0\.6:\d+ 10\.244\.1\.50:8080 10\.244\.1\.60:\d+ /,
    diagnose: ['why-inbound-fails', `${APP.pod}.${APP.ns}`, '--port', '8080'],
  },
];

const errors = (report: any) => report.findings.filter((f: any) => f.severity === 'error').map((f: any) => `${f.code} ${f.target.kind} ${f.target.namespace}/${f.target.name}`);

for (const c of CASES) {
  describe(`mesh lab: ${c.scenario} (real Envoy)`, function () {
    this.timeout(120_000);
    const s = useLab(c.scenario);

    it(`the scenario's request: the client sees ${c.culprit ? 'the failure' : 'success'} and the sidecar logs the real line`, async () => {
      const logger = s.lab.pod(c.logBy.ns, c.logBy.pod);
      const mark = s.lab.log(logger, 'istio-proxy').length;
      const r = await s.lab.sendTraffic();
      expect(`${r.stdout}\n${r.stderr}`).to.match(c.saw);
      await eventually('the access-log line', async () => accessLines(s.lab, logger, mark).length > 0);
      expect(accessLines(s.lab, logger, mark).join('\n')).to.match(c.logged);
    });

    it(`live through the real kubectl: ${c.culprit ?? 'no error finding, exit 0'}`, async () => {
      const r = await s.e2e.kubectl([...c.diagnose, '-o', 'json']);
      expect(r.exitCode, r.stderr).to.equal(c.culprit ? 3 : 0);
      const found = errors(JSON.parse(r.stdout));
      if (c.culprit) expect(found).to.include(c.culprit);
      else expect(found).to.deep.equal([]);
    });

    if (c.culprit) {
      it('snapshot of the live pods, then offline: the same culprit', async () => {
        const dir = await mkdtemp(path.join(tmpdir(), 'md-lab-snap-'));
        try {
          const out = path.join(dir, 'snap.tar.gz');
          const pod = c.diagnose[1];
          const snap = await s.e2e.kubectl(['snapshot', pod, '--out', out]);
          expect(snap.exitCode, snap.stderr).to.equal(0);
          const offline = await s.e2e.kubectl([...c.diagnose.filter((a) => a !== '--probe'), '--from', out, '-o', 'json']);
          expect(offline.exitCode, offline.stderr).to.equal(3);
          expect(errors(JSON.parse(offline.stdout))).to.include(c.culprit);
        } finally {
          await rm(dir, { recursive: true, force: true });
        }
      });
    }
  });
}
