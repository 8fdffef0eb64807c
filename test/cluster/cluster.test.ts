import {expect} from 'chai';
import {existsSync, mkdtempSync, mkdirSync, copyFileSync, cpSync, readFileSync, rmSync, writeFileSync} from 'node:fs';
import {c as createTar} from 'tar';
import {tmpdir} from 'node:os';
import {dirname, join} from 'node:path';
import {fileURLToPath} from 'node:url';
import {startTestCluster, type TestCluster} from './server.js';
import {killAll, kubectl, kubectlAvailable, spawnKubectl} from './kubectl.js';

const here = dirname(fileURLToPath(import.meta.url));
const BASIC = join(here, 'fixtures', 'basic');
const FORBIDDEN = join(here, 'fixtures', 'forbidden-exec');
const REAL_DUMPS = join(here, '..', '..', '..', 'shared', 'data', 'real-config-dumps');
const NS = 'foo';
const SLEEP = 'sleep-7f9c8d6b5-x2k4p';
const HTTPBIN = 'httpbin-6d8f7c5b9-abcde';

const pa = (c: TestCluster, ...req: string[]) => kubectl(c, ['exec', '-n', NS, SLEEP, '-c', 'istio-proxy', '--', 'pilot-agent', 'request', ...req]);
const levelsOf = (text: string) => Object.fromEntries([...text.matchAll(/^ {2}(\w+): (\w+)$/gm)].map((m) => [m[1], m[2]]));

describe('test cluster (real kubectl against a snapshot)', function () {
  this.timeout(30_000);
  let c: TestCluster;

  before(function () {
    if (!kubectlAvailable()) {
      // eslint-disable-next-line no-console
      console.log('    kubectl is not on PATH: the test cluster needs the real kubectl client; skipping');
      this.skip();
    }
  });
  beforeEach(async () => {
    c = await startTestCluster({snapshotDir: BASIC});
  });
  afterEach(async () => {
    killAll();
    await c?.stop();
  });

  describe('discovery and get/list', () => {
    it('lists pods in every namespace as a table, like a real server', async () => {
      const r = await kubectl(c, ['get', 'pods', '-A']);
      expect(r.code, r.stderr).to.equal(0);
      const lines = r.stdout.trimEnd().split('\n');
      expect(lines[0]).to.match(/^NAMESPACE\s+NAME\s+READY\s+STATUS\s+RESTARTS\s+AGE$/);
      expect(lines.slice(1).map((l) => l.split(/\s+/).slice(0, 4).join(' '))).to.deep.equal([
        'bar pending-0 0/1 Pending',
        `foo ${HTTPBIN} 2/2 Running`,
        `foo ${SLEEP} 2/2 Running`,
      ]);
      expect(r.stdout).to.match(/2 \(\d+d ago\)/);
      // kubectl asked for a server-side Table
      const list = c.journal.entries.find((e) => e.path === '/api/v1/pods');
      expect(list?.verb).to.equal('list');
      expect(list?.userAgent).to.match(/^kubectl/);
    });

    it('serves aggregated discovery, and kubectl falls back when it is off', async () => {
      const r = await kubectl(c, ['get', 'dr', '-A', '-o', 'name']);
      expect(r.stdout.trim()).to.equal('destinationrule.networking.istio.io/httpbin');
      const disc = c.journal.entries.filter((e) => e.kind === 'discovery').map((e) => e.path);
      expect(disc).to.include.members(['/api', '/apis']);
      expect(disc.filter((p) => p.startsWith('/apis/'))).to.deep.equal([]);
      expect(c.journal.entries.find((e) => e.path === '/apis')!.accept).to.contain('as=APIGroupDiscoveryList');
      await c.stop();
      c = await startTestCluster({snapshotDir: BASIC, aggregatedDiscovery: false});
      const legacy = await kubectl(c, ['get', 'dr', '-A', '-o', 'name']);
      expect(legacy.stdout.trim()).to.equal('destinationrule.networking.istio.io/httpbin');
      const paths = c.journal.entries.filter((e) => e.kind === 'discovery').map((e) => e.path);
      expect(paths).to.include.members(['/api/v1', '/apis/networking.istio.io/v1', '/apis/security.istio.io/v1']);
    });

    it('serves -o wide columns and services with ports', async () => {
      const wide = await kubectl(c, ['get', 'pods', '-n', NS, '-o', 'wide']);
      expect(wide.stdout).to.match(/IP\s+NODE\s+NOMINATED NODE\s+READINESS GATES/);
      expect(wide.stdout).to.match(new RegExp(`${SLEEP}.*10\\.244\\.0\\.12\\s+node-1`));
      const svc = await kubectl(c, ['get', 'svc', '-A']);
      expect(svc.code, svc.stderr).to.equal(0);
      expect(svc.stdout).to.match(/bar\s+legacy-gateway\s+ClusterIP\s+10\.96\.30\.40\s+<none>\s+443\/TCP/);
      expect(svc.stdout).to.match(/foo\s+httpbin\s+ClusterIP\s+10\.96\.10\.20\s+<none>\s+8000\/TCP/);
    });

    it('returns JSON objects and lists with kind/apiVersion filled by kubectl', async () => {
      const one = await kubectl(c, ['get', 'svc', '-n', 'bar', 'legacy-gateway', '-o', 'json']);
      const svc = JSON.parse(one.stdout);
      expect(svc.kind).to.equal('Service');
      expect(svc.spec.ports[0]).to.include({name: 'http', port: 443});
      const list = JSON.parse((await kubectl(c, ['get', 'pods', '-n', NS, '-o', 'json'])).stdout);
      expect(list.kind).to.equal('List');
      expect(list.items.map((p: any) => p.metadata.name)).to.deep.equal([HTTPBIN, SLEEP]);
      expect(list.items[0].kind).to.equal('Pod');
      const yaml = await kubectl(c, ['get', 'cm', '-n', 'istio-system', 'istio', '-o', 'yaml']);
      expect(yaml.stdout).to.contain('mode: REGISTRY_ONLY');
    });

    it('filters by label and field selectors', async () => {
      const bySel = await kubectl(c, ['get', 'pods', '-A', '-l', 'app=sleep', '-o', 'name']);
      expect(bySel.stdout.trim()).to.equal(`pod/${SLEEP}`);
      const setBased = await kubectl(c, ['get', 'pods', '-A', '-l', 'app in (httpbin,legacy),version!=v2', '-o', 'name']);
      expect(setBased.stdout.trim().split('\n')).to.deep.equal([`pod/pending-0`, `pod/${HTTPBIN}`]);
      const byNode = await kubectl(c, ['get', 'pods', '-A', '--field-selector', 'spec.nodeName=node-2', '-o', 'name']);
      expect(byNode.stdout.trim()).to.equal(`pod/${HTTPBIN}`);
      const byPhase = await kubectl(c, ['get', 'pods', '-A', '--field-selector', 'status.phase=Pending,metadata.namespace=bar', '-o', 'name']);
      expect(byPhase.stdout.trim()).to.equal('pod/pending-0');
      const byName = await kubectl(c, ['get', 'pods', '-n', NS, '--field-selector', `metadata.name=${SLEEP}`, '-o', 'name']);
      expect(byName.stdout.trim()).to.equal(`pod/${SLEEP}`);
      const bad = await kubectl(c, ['get', 'pods', '-A', '--field-selector', 'spec.bogus=1']);
      expect(bad.code).to.equal(1);
      expect(bad.stderr).to.contain('field label not supported: spec.bogus');
    });

    it('serves Istio resources under every served version, with short names', async () => {
      const r = await kubectl(c, ['get', 'se,dr,pa', '-A']);
      expect(r.code, r.stderr).to.equal(0);
      expect(r.stdout).to.match(/serviceentry\.networking\.istio\.io\/traefik\s+\["traefik\.cutom-name"\]\s+MESH_INTERNAL\s+DNS/);
      expect(r.stdout).to.match(/destinationrule\.networking\.istio\.io\/httpbin\s+httpbin\.foo\.svc\.cluster\.local/);
      expect(r.stdout).to.match(/peerauthentication\.security\.istio\.io\/default\s+STRICT/);
      for (const v of ['v1', 'v1beta1', 'v1alpha3']) {
        const dr = JSON.parse((await kubectl(c, ['get', `destinationrules.${v}.networking.istio.io`, '-n', NS, 'httpbin', '-o', 'json'])).stdout);
        expect(dr.apiVersion).to.equal(`networking.istio.io/${v}`);
        expect(dr.spec.trafficPolicy.tls.mode).to.equal('DISABLE');
      }
      const none = await kubectl(c, ['get', 'events', '-A']);
      expect(none.code).to.equal(0);
      expect(none.stderr).to.contain('No resources found');
      const noDeploy = await kubectl(c, ['get', 'deployments', '-A']);
      expect(noDeploy.stderr).to.contain('the server doesn\'t have a resource type "deployments"');
    });

    it('pages lists with limit/continue (kubectl --chunk-size)', async () => {
      const r = await kubectl(c, ['get', 'pods', '-A', '--chunk-size=1', '-o', 'name']);
      expect(r.stdout.trim().split('\n')).to.deep.equal(['pod/pending-0', `pod/${HTTPBIN}`, `pod/${SLEEP}`]);
      const table = await kubectl(c, ['get', 'pods', '-A', '--chunk-size=2']);
      expect(table.stdout.trim().split('\n')).to.have.length(4);
      expect(c.journal.entries.filter((e) => e.path === '/api/v1/pods' && e.query.continue).length).to.equal(3);
    });

    it('answers kubectl auth can-i from the forbidden faults, and that is no mutation', async () => {
      const yes = await kubectl(c, ['auth', 'can-i', 'create', 'pods', '--subresource=exec', '-n', NS]);
      expect(yes.code).to.equal(0);
      expect(yes.stdout.trim()).to.equal('yes');
      c.setFaults({forbidden: [{verb: 'create', resource: 'pods/exec', namespace: NS}]});
      const no = await kubectl(c, ['auth', 'can-i', 'create', 'pods', '--subresource=exec', '-n', NS]);
      expect(no.code).to.equal(1);
      expect(no.stdout.trim()).to.equal('no');
      const other = await kubectl(c, ['auth', 'can-i', 'create', 'pods', '--subresource=exec', '-n', 'bar']);
      expect(other.stdout.trim()).to.equal('yes');
      expect(c.journal.mutations()).to.deep.equal([]);
    });

    it('answers NotFound and Forbidden with Status objects kubectl prints', async () => {
      const nf = await kubectl(c, ['get', 'pod', '-n', NS, 'nope']);
      expect(nf.code).to.equal(1);
      expect(nf.stderr.trim()).to.equal('Error from server (NotFound): pods "nope" not found');
      const nfCr = await kubectl(c, ['get', 'dr', '-n', NS, 'nope']);
      expect(nfCr.stderr.trim()).to.equal('Error from server (NotFound): destinationrules.networking.istio.io "nope" not found');
      c.setFaults({forbidden: [{verb: 'list', resource: 'secrets'}, {verb: 'get', resource: 'pods', namespace: 'bar'}]});
      const fl = await kubectl(c, ['get', 'secrets', '-A']);
      expect(fl.stderr.trim()).to.equal('Error from server (Forbidden): secrets is forbidden: User "mesh-doctor-test" cannot list resource "secrets" in API group "" at the cluster scope');
      const fg = await kubectl(c, ['get', 'pod', '-n', 'bar', 'pending-0']);
      expect(fg.stderr.trim()).to.equal('Error from server (Forbidden): pods "pending-0" is forbidden: User "mesh-doctor-test" cannot get resource "pods" in API group "" in the namespace "bar"');
    });
  });

  describe('logs', () => {
    it('serves istio-proxy, istio-init and app container logs', async () => {
      const proxy = await kubectl(c, ['logs', '-n', NS, SLEEP, '-c', 'istio-proxy']);
      expect(proxy.code, proxy.stderr).to.equal(0);
      expect(proxy.stdout).to.equal(readFileSync(join(BASIC, 'proxies', NS, SLEEP, 'istio-proxy.log'), 'utf8'));
      const init = await kubectl(c, ['logs', '-n', NS, SLEEP, '-c', 'istio-init']);
      expect(init.stdout).to.contain('-A ISTIO_OUTPUT -s 127.0.0.6/32 -o lo -j RETURN');
      const app = await kubectl(c, ['logs', '-n', NS, SLEEP]); // default container from the annotation
      expect(app.stdout).to.equal('sleep container log line 1\nsleep container log line 2\n');
      const bad = await kubectl(c, ['logs', '-n', NS, SLEEP, '-c', 'nope']);
      expect(bad.code).to.equal(1);
      expect(bad.stderr).to.contain('container nope is not valid for pod sleep-7f9c8d6b5-x2k4p');
    });

    it('filters by --since-time (leading timestamps; continuation lines follow their line) and --tail', async () => {
      const since = await kubectl(c, ['logs', '-n', NS, SLEEP, '-c', 'istio-proxy', '--since-time=2026-01-01T00:01:00Z']);
      const lines = since.stdout.trimEnd().split('\n');
      expect(lines).to.have.length(4);
      expect(lines[0]).to.match(/^\[2026-01-01T00:01:00\.123Z\] "GET \/get HTTP\/1\.1" 503 UF/);
      expect(lines[2]).to.equal('  continuation line without a timestamp');
      const later = await kubectl(c, ['logs', '-n', NS, SLEEP, '-c', 'istio-proxy', '--since-time=2026-01-01T00:02:30Z']);
      expect(later.stdout.trimEnd().split('\n')).to.have.length(1);
      const tail = await kubectl(c, ['logs', '-n', NS, SLEEP, '-c', 'istio-proxy', '--tail=2']);
      expect(tail.stdout.trimEnd().split('\n')).to.deep.equal([
        '  continuation line without a timestamp',
        readFileSync(join(BASIC, 'proxies', NS, SLEEP, 'istio-proxy.log'), 'utf8').trimEnd().split('\n').pop(),
      ]);
      const limited = await kubectl(c, ['logs', '-n', NS, SLEEP, '-c', 'istio-proxy', '--limit-bytes=20']);
      expect(limited.stdout).to.equal('2026-01-01T00:00:05.');
      const stamped = await kubectl(c, ['logs', '-n', NS, SLEEP, '-c', 'istio-proxy', '--timestamps', '--tail=1']);
      expect(stamped.stdout).to.match(/^2026-01-01T00:03:00Z 2026-01-01T00:03:00\.000000Z\twarning\t/);
      const entry = c.journal.entries.find((e) => e.subresource === 'log' && e.query.tailLines);
      expect(entry?.query.tailLines).to.deep.equal(['2']);
      expect(entry?.kind).to.equal('log');
    });

    it('streams appended lines to a -f follower', async () => {
      const child = spawnKubectl(c, ['logs', '-f', '-n', NS, SLEEP, '-c', 'istio-proxy', '--tail=0']);
      let out = '';
      child.stdout!.on('data', (d) => (out += d));
      // wait until the follower is connected
      for (let i = 0; i < 100 && !c.journal.entries.some((e) => e.query.follow?.[0] === 'true' && e.status === 200); i++) await new Promise((r) => setTimeout(r, 50));
      const line = `${new Date().toISOString()}\tdebug\tenvoy connection new line from appendLog`;
      c.appendLog(NS, SLEEP, 'istio-proxy', line);
      c.appendLog(NS, SLEEP, 'sleep', 'not for this follower');
      for (let i = 0; i < 100 && !out.includes('appendLog'); i++) await new Promise((r) => setTimeout(r, 50));
      expect(out).to.equal(line + '\n');
      child.kill('SIGKILL');
      // appended lines are part of later reads too, with --since-time honouring their timestamps
      const again = await kubectl(c, ['logs', '-n', NS, SLEEP, '-c', 'istio-proxy', `--since-time=${new Date(Date.now() - 60_000).toISOString()}`]);
      expect(again.stdout).to.equal(line + '\n');
    });
  });

  describe('exec', () => {
    it('answers pilot-agent request GET server_info from the snapshot, with a live uptime', async () => {
      const r = await pa(c, 'GET', 'server_info');
      expect(r.code, r.stderr).to.equal(0);
      const info = JSON.parse(r.stdout);
      expect(info.version).to.contain('/1.28.5/');
      expect(parseInt(info.uptime_current_epoch, 10)).to.be.at.least(3600);
      const e = c.journal.execs()[0];
      expect(e.exec).to.deep.include({container: 'istio-proxy', command: ['pilot-agent', 'request', 'GET', 'server_info'], exitCode: 0, outcome: 'completed'});
      expect(e.path).to.equal(`/api/v1/namespaces/${NS}/pods/${SLEEP}/exec`);
      expect(e.status).to.equal(101);
    });

    it('serves config_dump with and without EDS, resource and mask', async () => {
      const all = JSON.parse((await pa(c, 'GET', 'config_dump?include_eds')).stdout);
      expect(all.configs.map((x: any) => x['@type'].split('.').pop())).to.deep.equal(['BootstrapConfigDump', 'ClustersConfigDump', 'ListenersConfigDump', 'EndpointsConfigDump']);
      const noEds = JSON.parse((await pa(c, 'GET', '/config_dump')).stdout);
      expect(noEds.configs).to.have.length(3);
      const res = JSON.parse((await pa(c, 'GET', 'config_dump?resource=dynamic_active_clusters&mask=cluster.name')).stdout);
      expect(res.configs.map((x: any) => x.cluster.name)).to.deep.equal(['outbound|8000||httpbin.foo.svc.cluster.local', 'PassthroughCluster']);
      expect(res.configs[0]).to.not.have.property('version_info');
    });

    it('serves clusters, listeners, certs and stats with filter/usedonly', async () => {
      expect((await pa(c, 'GET', 'clusters')).stdout).to.contain('10.244.0.13:80::cx_connect_fail::3');
      expect(JSON.parse((await pa(c, 'GET', 'clusters?format=json')).stdout).cluster_statuses[0].name).to.equal('outbound|8000||httpbin.foo.svc.cluster.local');
      expect((await pa(c, 'GET', 'listeners')).stdout).to.contain('virtualOutbound::0.0.0.0:15001');
      expect(JSON.parse((await pa(c, 'GET', 'certs')).stdout).certificates).to.have.length(1);
      expect((await pa(c, 'GET', 'stats?filter=^(cluster_manager|listener_manager)')).stdout).to.equal('cluster_manager.cds.update_success: 7\nlistener_manager.lds.update_rejected: 0\n\n');
      expect((await pa(c, 'GET', 'stats?usedonly&filter=listener_manager|server')).stdout).to.equal('server.live: 1\n\n');
      const prom = (await pa(c, 'GET', 'stats/prometheus?filter=cds')).stdout;
      expect(prom).to.equal('# TYPE envoy_cluster_manager_cds_update_success counter\nenvoy_cluster_manager_cds_update_success{} 7\n\n');
      const missing = await kubectl(c, ['exec', '-n', NS, HTTPBIN, '-c', 'istio-proxy', '--', 'pilot-agent', 'request', 'GET', 'clusters']);
      expect(missing.code).to.equal(255);
      expect(missing.stderr).to.contain('the snapshot has no proxies/foo/httpbin-6d8f7c5b9-abcde/clusters');
    });

    it('keeps /logging state: query, set one, paths all-or-nothing, unknown logger, warn rejected, GET refused', async () => {
      const boot = c.bootstrapLevels(NS, SLEEP);
      expect(boot).to.include({rbac: 'debug', misc: 'error', connection: 'warning'});

      const q = await pa(c, 'POST', 'logging');
      expect(q.code).to.equal(0);
      expect(q.stdout.startsWith('active loggers:\n  admin: warning\n  alternate_protocols_cache: warning\n')).to.equal(true);
      expect(q.stdout.endsWith('  golang: warning\n\n\n')).to.equal(true); // Envoy's blank line + pilot-agent's Println
      expect(levelsOf(q.stdout)).to.deep.equal(boot);

      const one = await pa(c, 'POST', 'logging?connection=debug');
      expect(levelsOf(one.stdout).connection).to.equal('debug');
      expect(c.currentLevels(NS, SLEEP).connection).to.equal('debug');

      const several = await pa(c, 'POST', 'logging?paths=conn_handler:debug,filter:trace');
      expect(levelsOf(several.stdout)).to.include({conn_handler: 'debug', filter: 'trace', connection: 'debug'});

      const before = c.currentLevels(NS, SLEEP);
      const unknown = await pa(c, 'POST', 'logging?paths=router:debug,nosuchlogger:debug');
      expect(unknown.code).to.equal(255);
      expect(unknown.stdout).to.equal('');
      expect(unknown.stderr).to.match(/^Error: received unsuccessful status code 400: error: unknown logger name\n\nusage: \/logging\?<name>=<level> \(change single level\)\n/);
      expect(unknown.stderr).to.contain('levels: trace debug info warning error critical off \nactive loggers:\n');
      expect(unknown.stderr).to.match(/command terminated with exit code 255\n$/);
      expect(c.currentLevels(NS, SLEEP)).to.deep.equal(before); // all-or-nothing

      const warn = await pa(c, 'POST', 'logging?level=warn');
      expect(warn.code).to.equal(255);
      expect(warn.stderr).to.contain('error: unknown logger level');
      const warnOne = await pa(c, 'POST', 'logging?router=warn');
      expect(warnOne.stderr).to.contain('error: unknown logger level');
      const unknownOne = await pa(c, 'POST', 'logging?nosuch=debug');
      expect(unknownOne.stderr).to.contain('error: unknown logger name');
      const two = await pa(c, 'POST', 'logging?router=debug&http=debug');
      expect(two.stderr).to.contain('error: invalid number of parameters');
      expect(c.currentLevels(NS, SLEEP)).to.deep.equal(before);

      const get = await pa(c, 'GET', 'logging');
      expect(get.code).to.equal(255);
      expect(get.stderr).to.contain('Error: received unsuccessful status code 405: Method GET not allowed, POST required.');

      // restore exactly with paths=, then everything is back
      const restore = Object.entries(boot).map(([k, v]) => `${k}:${v}`).join(',');
      const r = await pa(c, 'POST', `logging?paths=${restore}`);
      expect(r.code).to.equal(0);
      expect(c.currentLevels(NS, SLEEP)).to.deep.equal(boot);

      const all = await pa(c, 'POST', 'logging?level=off');
      expect(new Set(Object.values(levelsOf(all.stdout)))).to.deep.equal(new Set(['off']));

      // the journal: before/after on every /logging call; only effective changes are mutations
      const calls = c.journal.loggingCalls();
      expect(calls.map((e) => e.logging!.mutation)).to.deep.equal([false, true, true, false, false, false, false, false, true, true]);
      expect(calls[1].logging!.before.connection).to.equal('warning');
      expect(calls[1].logging!.after.connection).to.equal('debug');
      expect(c.journal.mutations()).to.have.length(4);
      expect(c.journal.mutations().every((e) => e.kind === 'exec' && e.logging)).to.equal(true);
    });

    it('serves ss/netstat, /proc/net/tcp and recorded probes; a missing executable fails like containerd', async () => {
      const ss = await kubectl(c, ['exec', '-n', NS, SLEEP, '-c', 'istio-proxy', '--', 'ss', '-ltnH']);
      expect(ss.stdout.split('\n')[0]).to.match(/^LISTEN/);
      expect(ss.stdout).to.contain('127.0.0.1:8080');
      const ssh = await kubectl(c, ['exec', '-n', NS, SLEEP, '-c', 'istio-proxy', '--', 'ss', '-ltn']);
      expect(ssh.stdout.split('\n')[0]).to.match(/^State/);
      const tcp = await kubectl(c, ['exec', '-n', NS, SLEEP, '-c', 'sleep', '--', 'cat', '/proc/net/tcp']);
      expect(tcp.stdout).to.contain('0100007F:1F90');
      const probe = await kubectl(c, ['exec', '-n', NS, SLEEP, '-c', 'sleep', '--', 'curl', '-sv', 'https://example.com']);
      expect(probe.code).to.equal(35);
      expect(probe.stdout).to.equal('');
      expect(probe.stderr).to.contain('curl: (35) error:1408F10B:SSL routines:ssl3_get_record:wrong version number');
      const missing = await kubectl(c, ['exec', '-n', NS, SLEEP, '-c', 'istio-proxy', '--', 'curl', '-sv', 'https://example.com']);
      expect(missing.code).to.equal(1);
      expect(missing.stderr).to.match(/^error: Internal error occurred: error executing command in container: failed to exec in container: failed to start exec "[0-9a-f]+": OCI runtime exec failed: exec failed: unable to start container process: exec: "curl": executable file not found in \$PATH: unknown\n$/);
      expect(c.journal.execs().map((e) => e.exec!.outcome)).to.deep.equal(['completed', 'completed', 'completed', 'completed', 'failed-status']);
    });

    it('can fail a missing executable with an exit code instead (dockershim style)', async () => {
      await c.stop();
      c = await startTestCluster({snapshotDir: BASIC, missingExecutable: {style: 'exit-code', code: 127}});
      const r = await kubectl(c, ['exec', '-n', NS, SLEEP, '-c', 'istio-proxy', '--', 'sh', '-c', 'true']);
      expect(r.code).to.equal(127);
      expect(r.stderr).to.equal('OCI runtime exec failed: exec failed: unable to start container process: exec: "sh": executable file not found in $PATH: unknown\ncommand terminated with exit code 127\n');
    });

    it('works with the kubectl 1.30-1.33 clients the dispatcher picks from /version; 1.29 and older need SPDY', async () => {
      for (const v of ['v1.30.5', 'v1.31.2', 'v1.33.1', 'v1.29.9']) {
        await c.stop();
        c = await startTestCluster({snapshotDir: BASIC, serverVersion: v});
        const r = await pa(c, 'GET', 'server_info');
        const minor = v.split('.')[1];
        expect(c.journal.execs()[0].userAgent).to.match(new RegExp(`^kubectl/v1\\.${minor}\\.`));
        if (v === 'v1.29.9') {
          expect(r.code).to.equal(1);
          expect(r.stderr).to.contain('Upgrade request required (the test cluster serves exec over WebSocket only)');
        } else {
          expect(r.code, `${v}: ${r.stderr}`).to.equal(0);
        }
      }
    });

    it('rejects an unknown container and a missing pod like the API server', async () => {
      const badC = await kubectl(c, ['exec', '-n', NS, SLEEP, '-c', 'nope', '--', 'ls']);
      expect(badC.code).to.equal(1);
      expect(badC.stderr.trim()).to.equal(`Error from server (BadRequest): container nope is not valid for pod ${SLEEP}`);
      const noPod = await kubectl(c, ['exec', '-n', NS, 'nope', '--', 'ls']);
      expect(noPod.stderr.trim()).to.equal('Error from server (NotFound): pods "nope" not found');
    });

    it('reads the real config dumps when they are present', async function () {
      const real = join(REAL_DUMPS, 'istio-1.20.8-hello-openshift.config_dump.json');
      if (!existsSync(real)) {
        // eslint-disable-next-line no-console
        console.log(`    ${REAL_DUMPS} is absent (it lives beside the project, not in it); skipping`);
        this.skip();
      }
      await c.stop();
      const tmp = mkdtempSync(join(tmpdir(), 'mesh-doctor-real-'));
      try {
        const dir = join(tmp, 'proxies', 'vanilla-playground', 'hello-openshift');
        mkdirSync(dir, {recursive: true});
        copyFileSync(real, join(dir, 'config_dump?include_eds'));
        c = await startTestCluster({snapshotDir: tmp});
        const pods = await kubectl(c, ['get', 'pods', '-n', 'vanilla-playground', '-o', 'name']);
        expect(pods.stdout.trim()).to.equal('pod/hello-openshift'); // synthesized from proxies/
        const r = await kubectl(c, ['exec', '-n', 'vanilla-playground', 'hello-openshift', '-c', 'istio-proxy', '--', 'pilot-agent', 'request', 'GET', 'config_dump?include_eds']);
        expect(r.code, r.stderr).to.equal(0);
        expect(JSON.parse(r.stdout)).to.deep.equal(JSON.parse(readFileSync(real, 'utf8')));
        const clusters = JSON.parse((await kubectl(c, ['exec', '-n', 'vanilla-playground', 'hello-openshift', '-c', 'istio-proxy', '--', 'pilot-agent', 'request', 'GET', 'config_dump?resource=dynamic_active_clusters&mask=cluster.name'])).stdout);
        expect(clusters.configs.length).to.be.greaterThan(5);
        expect(clusters.configs.every((x: any) => typeof x.cluster.name === 'string')).to.equal(true);
      } finally {
        await c.stop();
        rmSync(tmp, {recursive: true, force: true});
      }
    });
  });

  describe('snapshots', () => {
    it('serves apps/v1 deployments only when the snapshot has some', async () => {
      await c.stop();
      const tmp = mkdtempSync(join(tmpdir(), 'mesh-doctor-deploy-'));
      try {
        mkdirSync(join(tmp, 'cluster'));
        writeFileSync(join(tmp, 'cluster', 'k8s-resources'), [
          'apiVersion: apps/v1',
          'kind: DeploymentList',
          'items:',
          '- metadata: {name: web, namespace: shop, creationTimestamp: "2026-01-01T00:00:00Z", labels: {app: web}}',
          '  spec: {replicas: 2}',
          '  status: {readyReplicas: 1, updatedReplicas: 2, availableReplicas: 1}',
          '',
        ].join('\n'));
        c = await startTestCluster({snapshotDir: tmp});
        const r = await kubectl(c, ['get', 'deploy', '-A']);
        expect(r.code, r.stderr).to.equal(0);
        expect(r.stdout).to.match(/shop\s+web\s+1\/2\s+2\s+1\s+\d+d/);
        const ns = await kubectl(c, ['get', 'ns', 'shop', '-o', 'name']); // namespaces are implied by objects
        expect(ns.stdout.trim()).to.equal('namespace/shop');
      } finally {
        await c.stop();
        rmSync(tmp, {recursive: true, force: true});
      }
    });

    it('serves a .tar.gz snapshot with a bug-report/ folder', async () => {
      await c.stop();
      const tmp = mkdtempSync(join(tmpdir(), 'mesh-doctor-tgz-'));
      try {
        const staging = join(tmp, 'stage');
        mkdirSync(staging);
        cpSync(BASIC, join(staging, 'bug-report'), {recursive: true});
        const archive = join(tmp, 'bug-report.tar.gz');
        createTar({file: archive, cwd: staging, gzip: true, sync: true}, ['bug-report']);
        c = await startTestCluster({snapshotDir: archive});
        const r = await kubectl(c, ['get', 'svc', '-n', 'bar', '-o', 'name']);
        expect(r.stdout.trim()).to.equal('service/legacy-gateway');
        const info = await pa(c, 'GET', 'server_info');
        expect(JSON.parse(info.stdout).version).to.contain('/1.28.5/');
      } finally {
        await c.stop();
        rmSync(tmp, {recursive: true, force: true});
      }
    });
  });

  describe('faults', () => {
    it('forbids exec from faults.yaml (create pods/exec -> 403) while reads work', async () => {
      await c.stop();
      c = await startTestCluster({snapshotDir: FORBIDDEN});
      const logs = await kubectl(c, ['logs', 'web-0', '-c', 'istio-proxy']);
      expect(logs.stdout).to.contain('Envoy proxy is ready');
      const r = await kubectl(c, ['exec', 'web-0', '-c', 'istio-proxy', '--', 'pilot-agent', 'request', 'GET', 'server_info']);
      expect(r.code).to.equal(1);
      expect(r.stderr).to.contain('pods "web-0" is forbidden: User "mesh-doctor-test" cannot create resource "pods/exec" in API group "" in the namespace "default"');
      expect(c.journal.execs().every((e) => e.exec!.outcome === 'forbidden' && e.status === 403)).to.equal(true);
    });

    it('adds exec latency', async () => {
      c.setFaults({execLatencyMs: 700});
      const r = await pa(c, 'GET', 'server_info');
      expect(r.code).to.equal(0);
      expect(r.ms).to.be.at.least(700);
    });

    it('hangs an exec that never answers (the caller must time out)', async () => {
      c.setFaults({execHang: [{match: 'config_dump'}]});
      const ok = await pa(c, 'GET', 'server_info');
      expect(ok.code).to.equal(0);
      const hung = await kubectl(c, ['exec', '-n', NS, SLEEP, '-c', 'istio-proxy', '--', 'pilot-agent', 'request', 'GET', 'config_dump'], 1500);
      expect(hung.signal).to.equal('SIGKILL');
      expect(hung.stdout).to.equal('');
      expect(c.journal.execs().pop()!.exec!.outcome).to.equal('hung');
    });

    it('cuts an exec stream after N bytes, and a log stream', async () => {
      c.setFaults({cutStream: [{target: 'exec', match: 'config_dump', afterBytes: 100}]});
      const r = await pa(c, 'GET', 'config_dump?include_eds');
      expect(r.code).to.not.equal(0);
      expect(r.stdout.length).to.equal(100);
      expect(() => JSON.parse(r.stdout)).to.throw();
      expect(c.journal.execs().pop()!.exec!.outcome).to.equal('cut');
      c.setFaults({cutStream: [{target: 'logs', afterBytes: 30}]});
      const logs = await kubectl(c, ['logs', '-n', NS, SLEEP, '-c', 'istio-proxy']);
      expect(logs.stdout.length).to.be.at.most(30);
      expect(c.journal.entries.filter((e) => e.kind === 'log').pop()!.fault).to.equal('cutStream after 30 bytes');
    });

    it('restarts the proxy after N execs: uptime resets, levels return to bootstrap, restart count grows', async () => {
      c.setFaults({restartProxyAfterExecs: [{pod: `${NS}/${SLEEP}`, after: 2}]});
      const up1 = JSON.parse((await pa(c, 'GET', 'server_info')).stdout).uptime_current_epoch;
      expect(parseInt(up1, 10)).to.be.at.least(3600);
      await pa(c, 'POST', 'logging?connection=debug'); // 2nd exec: the restart follows it
      expect(c.currentLevels(NS, SLEEP).connection).to.equal('warning');
      expect(c.currentLevels(NS, SLEEP)).to.deep.equal(c.bootstrapLevels(NS, SLEEP));
      const up2 = JSON.parse((await pa(c, 'GET', 'server_info')).stdout).uptime_current_epoch;
      expect(parseInt(up2, 10)).to.be.below(5);
      const pod = JSON.parse((await kubectl(c, ['get', 'pod', '-n', NS, SLEEP, '-o', 'json'])).stdout);
      const cs = pod.status.containerStatuses.find((s: any) => s.name === 'istio-proxy');
      expect(cs.restartCount).to.equal(1);
      // programmatic restart too
      await pa(c, 'POST', 'logging?router=debug');
      c.restartProxy(NS, SLEEP);
      expect(c.currentLevels(NS, SLEEP).router).to.equal('warning');
    });

    it('gives a restarted proxy a fresh log; the old one is --previous', async () => {
      const none = await kubectl(c, ['logs', '-n', NS, SLEEP, '-c', 'istio-proxy', '--previous']);
      expect(none.stderr.trim()).to.equal(`Error from server (BadRequest): previous terminated container "istio-proxy" in pod "${SLEEP}" not found`);
      c.restartProxy(NS, SLEEP);
      c.appendLog(NS, SLEEP, 'istio-proxy', '2026-06-01T00:00:00.000000Z\tinfo\tEnvoy proxy is ready');
      const cur = await kubectl(c, ['logs', '-n', NS, SLEEP, '-c', 'istio-proxy']);
      expect(cur.stdout).to.equal('2026-06-01T00:00:00.000000Z\tinfo\tEnvoy proxy is ready\n');
      const prev = await kubectl(c, ['logs', '-n', NS, SLEEP, '-c', 'istio-proxy', '-p']);
      expect(prev.stdout).to.equal(readFileSync(join(BASIC, 'proxies', NS, SLEEP, 'istio-proxy.log'), 'utf8'));
    });

    it('deletes a pod after N requests', async () => {
      c.setFaults({deletePodAfterRequests: [{pod: `${NS}/${SLEEP}`, after: 1}]});
      const first = await kubectl(c, ['get', 'pod', '-n', NS, SLEEP, '-o', 'name']);
      expect(first.stdout.trim()).to.equal(`pod/${SLEEP}`);
      const second = await kubectl(c, ['get', 'pod', '-n', NS, SLEEP]);
      expect(second.stderr.trim()).to.equal(`Error from server (NotFound): pods "${SLEEP}" not found`);
      const ex = await pa(c, 'GET', 'server_info');
      expect(ex.code).to.equal(1);
      expect(ex.stderr).to.contain(`pods "${SLEEP}" not found`);
      c.deletePod(NS, HTTPBIN);
      const list = await kubectl(c, ['get', 'pods', '-n', NS]);
      expect(list.stderr).to.contain('No resources found in foo namespace.');
    });

    it('stops answering after N requests (connections accepted, no response)', async () => {
      c.setFaults({stopAnsweringAfterRequests: 1});
      const ok = await kubectl(c, ['get', 'pods', '-n', NS, '-o', 'name']);
      expect(ok.code).to.equal(0);
      const hung = await kubectl(c, ['get', 'pods', '-n', NS, '--request-timeout=1s']);
      expect(hung.code).to.equal(1);
      expect(hung.stderr).to.match(/Timeout|timeout|deadline/);
      expect(c.journal.entries.filter((e) => e.fault === 'stopAnswering').length).to.be.greaterThan(0);
    });
  });

  describe('journal', () => {
    it('records method, path, query, user agent, exec argv; mutations are writes and effective level changes', async () => {
      await kubectl(c, ['get', 'pods', '-n', NS, '-l', 'app=sleep']);
      await pa(c, 'POST', 'logging');
      await pa(c, 'POST', 'reset_counters');
      const del = await kubectl(c, ['delete', 'pod', '-n', NS, SLEEP, '--wait=false']);
      expect(del.stderr).to.contain('MethodNotAllowed');
      const list = c.journal.entries.find((e) => e.path === `/api/v1/namespaces/${NS}/pods` && e.method === 'GET')!;
      expect(list.query.labelSelector).to.deep.equal(['app=sleep']);
      expect(list.userAgent).to.match(/^kubectl(\.\d+\.\d+)?\/v1\.\d+/);
      const m = c.journal.mutations();
      expect(m.map((e) => `${e.method} ${e.kind} ${e.adminMutation ?? ''}`.trim())).to.deep.equal(['GET exec reset_counters', `DELETE api`]);
      expect(m[1].path).to.equal(`/api/v1/namespaces/${NS}/pods/${SLEEP}`);
      expect(m[1].verb).to.equal('delete');
    });

    it('stops cleanly with a follower and a hung exec attached', async () => {
      c.setFaults({execHang: [{}]});
      const follower = spawnKubectl(c, ['logs', '-f', '-n', NS, SLEEP, '-c', 'istio-proxy']);
      const hung = spawnKubectl(c, ['exec', '-n', NS, SLEEP, '-c', 'istio-proxy', '--', 'pilot-agent', 'request', 'GET', 'server_info']);
      for (let i = 0; i < 100 && c.journal.execs().length === 0; i++) await new Promise((r) => setTimeout(r, 50));
      const exited = Promise.all([follower, hung].map((p) => new Promise((r) => p.on('exit', r))));
      await c.stop();
      await exited; // both kubectl processes end once the server is gone
    });
  });
});
