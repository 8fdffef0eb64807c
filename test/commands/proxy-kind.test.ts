import { expect } from 'chai';
import { cp, mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { stringify } from 'yaml';
import { jsonOf, REPO_ROOT, runCli } from '../support/cli.js';

/**
 * Proxy kinds: a gateway's or waypoint's proxy is not diagnosed as a sidecar.
 * Fixture: the oracle's seed 003 healthy snapshot plus two hand-made proxies
 * (the oracle emits sidecar dumps only), documented here:
 * - a gateway pod whose istio-proxy runs `pilot-agent proxy router` (the args
 *   of Istio's gateway-injection-template.yaml), with the sample sidecar's dump
 *   whose node id is rewritten from `sidecar~` to `router~`;
 * - the sample sidecar's dump with its node id rewritten to `waypoint~`, for a
 *   pod spec that does not say (its istio-proxy has no args in the snapshot).
 */
const SCENARIO = path.join(REPO_ROOT, 'test/scenarios/seed003-se-no-addresses-tcp-healthy/snapshot');
const SAMPLE = { namespace: 'istio-demo', name: 'sample-c59f744df-8kq7m' };
const GATEWAY = { namespace: 'istio-system', name: 'istio-ingressgateway-7d4f8b9c6-x2k4p' };
const DUMP = 'config_dump?include_eds';

async function withNodeType(dumpFile: string, type: string): Promise<string> {
  const dump = JSON.parse(await readFile(dumpFile, 'utf8'));
  const bootstrap = dump.configs.find((c: any) => c['@type'].endsWith('BootstrapConfigDump'));
  const id: string = bootstrap.bootstrap.node.id;
  expect(id.startsWith('sidecar~')).to.equal(true);
  bootstrap.bootstrap.node.id = `${type}~${id.slice('sidecar~'.length)}`;
  return JSON.stringify(dump);
}

async function snapshot(options: { sampleNodeType?: string }): Promise<string> {
  const dir = await mkdtemp(path.join(tmpdir(), 'md-kind-'));
  await cp(SCENARIO, dir, { recursive: true });
  const sampleDump = path.join(dir, 'proxies', SAMPLE.namespace, SAMPLE.name, DUMP);
  const gatewayDir = path.join(dir, 'proxies', GATEWAY.namespace, GATEWAY.name);
  await mkdir(gatewayDir, { recursive: true });
  await writeFile(path.join(gatewayDir, DUMP), await withNodeType(sampleDump, 'router'));
  if (options.sampleNodeType) await writeFile(sampleDump, await withNodeType(sampleDump, options.sampleNodeType));
  const gateway = {
    apiVersion: 'v1', kind: 'Pod',
    metadata: { name: GATEWAY.name, namespace: GATEWAY.namespace, labels: { app: 'istio-ingressgateway', istio: 'ingressgateway' } },
    spec: { containers: [{ name: 'istio-proxy', image: 'docker.io/istio/proxyv2:1.31-dev', args: ['proxy', 'router', '--domain', '$(POD_NAMESPACE).svc.cluster.local'] }] },
    status: { phase: 'Running', podIP: '10.244.0.9', containerStatuses: [{ name: 'istio-proxy', ready: true }] },
  };
  const resources = path.join(dir, 'cluster/k8s-resources');
  await writeFile(resources, `${await readFile(resources, 'utf8')}\n---\n${stringify(gateway)}`);
  return dir;
}

describe('proxy kinds: sidecar, router (gateway), waypoint, ztunnel', function () {
  this.timeout(120_000);
  const dirs: string[] = [];
  after(async () => {
    for (const d of dirs) await rm(d, { recursive: true, force: true });
  });
  const gatewayArg = `${GATEWAY.name}.${GATEWAY.namespace}`;

  it('pods shows each proxy\'s kind', async () => {
    const dir = await snapshot({});
    dirs.push(dir);
    const report = jsonOf(await runCli(['pods', '-A', '--from', dir, '-o', 'json']));
    const kinds = Object.fromEntries(report.data.map((p: any) => [p.name, p.kind]));
    expect(kinds[GATEWAY.name]).to.equal('router');
    expect(kinds[SAMPLE.name]).to.equal('sidecar');
    const table = await runCli(['pods', '-A', '--from', dir]);
    expect(table.stdout.split('\n')[0]).to.match(/\bKIND\b/);
    expect(table.stdout.split('\n').find((l) => l.includes(GATEWAY.name))).to.match(/\brouter\b/);
  });

  it('a sidecar diagnosis on a gateway pod says it plainly (exit 1), for every sidecar command; listeners reads it', async () => {
    const dir = await snapshot({});
    dirs.push(dir);
    for (const args of [['why-https-fails', gatewayArg, '--host', 'example.com'], ['why-502', gatewayArg, '--host', 'example.com'], ['why-inbound-fails', gatewayArg], ['who-owns-443', gatewayArg], ['why-503', gatewayArg, '--to', 'sample.istio-demo:8080'], ['iptables', gatewayArg]]) {
      const result = await runCli([...args, '--from', dir]);
      expect(result.exitCode, `${args[0]}: ${result.stdout}`).to.equal(1);
      expect(result.stderr, args[0]).to.match(/runs a gateway \(router\).*supports a sidecar only/);
    }
    const listeners = await runCli(['listeners', gatewayArg, '--from', dir]);
    expect(listeners.exitCode, listeners.stderr).to.equal(0);
  });

  it('the node id decides when the pod spec does not say: a waypoint~ dump is not diagnosed as a sidecar', async () => {
    const dir = await snapshot({ sampleNodeType: 'waypoint' });
    dirs.push(dir);
    for (const args of [['why-https-fails', '--host', 'example.com'], ['why-503', '--to', 'sample.istio-demo:8080']]) {
      const result = await runCli([args[0], `${SAMPLE.name}.${SAMPLE.namespace}`, ...args.slice(1), '--from', dir]);
      expect(result.exitCode, `${args[0]}: ${result.stdout}`).to.equal(1);
      expect(result.stderr, args[0]).to.match(/runs a waypoint \(from the node id waypoint~/);
    }
  });

  describe("the oracle's real gateway and waypoint (Istio's generator: router~ and waypoint~ node ids)", () => {
    const GW = path.join(REPO_ROOT, 'test/scenarios/gw-ingress-healthy/snapshot');
    const WP = path.join(REPO_ROOT, 'test/scenarios/waypoint-basic/snapshot');
    it('pods shows router and waypoint beside the sidecars', async () => {
      const gw = jsonOf(await runCli(['pods', '-A', '--from', GW, '-o', 'json']));
      const wp = jsonOf(await runCli(['pods', '-A', '--from', WP, '-o', 'json']));
      const kinds = [...gw.data, ...wp.data].filter((p: any) => p.kind).map((p: any) => `${p.name.split('-')[0]}:${p.kind}`).sort();
      expect(kinds).to.include.members(['istio:router', 'httpbin:sidecar', 'waypoint:waypoint', 'sleep:sidecar']);
    });
    it('why-https-fails refuses the gateway and the waypoint (exit 1); listeners reads both', async () => {
      for (const [dir, pod, kind] of [[GW, 'istio-ingressgateway-7d4f8b6c9-h5k2m.istio-system', 'a gateway \\(router\\)'], [WP, 'waypoint-6b8f5c7d9-t7r4p.default', 'a waypoint']] as const) {
        const result = await runCli(['why-https-fails', pod, '--host', 'example.com', '--from', dir]);
        expect(result.exitCode, result.stdout).to.equal(1);
        expect(result.stderr).to.match(new RegExp(`runs ${kind}`));
        const listeners = await runCli(['listeners', pod, '--from', dir]);
        expect(listeners.exitCode, listeners.stderr).to.equal(0);
      }
    });
  });

  it('who-owns-443 -A leaves the gateway out, says so, and still decides for the sidecars', async () => {
    const dir = await snapshot({});
    dirs.push(dir);
    const report = jsonOf(await runCli(['who-owns-443', '-A', '--from', dir, '-o', 'json']));
    expect(report.steps.flatMap((s: any) => s.saw).join('\n')).to.contain(`left out, not sidecars: ${gatewayArg} (router)`);
    expect(report.verdict.status).to.not.equal('inconclusive');
  });
});
