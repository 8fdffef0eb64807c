import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { parseConfigDump } from '../../../src/model/envoy/config-dump.js';
import { meshConfigFrom } from '../../../src/model/istio/mesh-config.js';
import { parseIstioVersion } from '../../../src/model/istio/version-behaviour.js';
import { podView } from '../../../src/model/k8s/pods.js';
import { parseKubeObjects, ResourceSet } from '../../../src/model/k8s/resources.js';
import { parseAccessLog } from '../../../src/model/logs/access-log.js';
import { httpConnection, httpsConnection, portOwnership, simulateOutbound } from '../../../src/model/outbound/index.js';
import { blockedWithoutDumpRule, partialOutboundEvidence, type PartialOutboundEvidence } from '../../../src/rules/egress/blocked-without-dump.js';
import { registryOnlyBlocked, registryOnlyHidden } from '../../../src/rules/egress/blocked-hosts.js';
import { proxyEvidence, type EgressShared, type ProxyEvidence } from '../../../src/rules/egress/evidence.js';
import { OUTBOUND_PATH_RULES, outboundPathEvidence, type OutboundContext } from '../../../src/rules/egress/outbound-path.js';
import { UNMATCHED_TLS_RULES } from '../../../src/rules/egress/unmatched-tls.js';
import { runStaticChecks } from '../../../src/rules/mesh/index.js';
import { REPO_ROOT } from '../../support/cli.js';
import { ruleTester, type InvalidRuleCase, type RuleTesterOptions, type ValidRuleCase } from '../../support/rule-tester.js';

/**
 * The egress rules through the RuleTester, each alone on the engine: the path
 * rules over one simulated connection (why-https-fails, why-502), the
 * per-proxy rules over one sidecar (who-owns-443, check), and MD2001 without a
 * config dump (why-502). Snapshots: the oracle's seed scenarios
 * (test/scenarios/seed00x-*, each with its healthy twin), the egress fixtures
 * of real older-Istio dumps (test/fixtures/egress/PROVENANCE.md), and check's
 * seed 002 with the access log Envoy wrote (test/fixtures/check/PROVENANCE.md).
 */
const SAMPLE = 'istio-demo/sample-c59f744df-8kq7m';
const UBUNTU = 'default/ubuntu-deployment-54bbd6f4ff-q9sdj';
const WEB = 'team-b/web-6d4cf56db6-x2pnq';
const S = (name: string) => `test/scenarios/${name}/snapshot`;
const F = (name: string) => `test/fixtures/egress/${name}`;
const C = (name: string) => `test/fixtures/check/${name}`;

interface Proxy { dir: string; pod: string }

/** One sidecar of a snapshot: its pod, dump, access log (when recorded), the resources and mesh config. */
function read({ dir, pod }: Proxy) {
  const root = path.join(REPO_ROOT, dir);
  const text = (f: string) => (existsSync(path.join(root, f)) ? readFileSync(path.join(root, f), 'utf8') : '');
  const resources = new ResourceSet(['cluster/k8s-resources', 'cluster/crs'].flatMap((f) => (text(f).trim() ? parseKubeObjects(text(f), f) : [])));
  const [ns, name] = pod.split('/') as [string, string];
  const dumpText = text(`proxies/${pod}/config_dump?include_eds`) || text(`proxies/${pod}/config_dump`);
  const dump = dumpText ? parseConfigDump(dumpText, pod) : undefined;
  const log = text(`proxies/${pod}/istio-proxy.log`);
  const mesh = meshConfigFrom(resources);
  const istioVersion = parseIstioVersion(dump?.versions?.istio);
  return {
    view: podView(resources.get('Pod', ns, name)!), podArg: `${name}.${ns}`, resources, mesh, dump, ...(istioVersion ? { istioVersion } : {}),
    dumpSource: `kubectl exec ${name} -n ${ns} -c istio-proxy -- pilot-agent request GET config_dump`,
    ...(log ? { accessLog: { source: `kubectl logs ${name} -n ${ns} -c istio-proxy`, entries: parseAccessLog(log).entries } } : {}),
    staticFindings: runStaticChecks(resources, { mesh, ...(istioVersion ? { istioVersion } : {}) }).findings,
  };
}

// --- the path rules: one connection through the sidecar --------------------------------------

interface PathInput extends Proxy { kind: 'https' | 'http'; host: string }

function pathContext(input: PathInput): OutboundContext {
  const r = read(input);
  const port = input.kind === 'https' ? 443 : 80;
  const simulation = simulateOutbound(r.dump!, input.kind === 'https' ? httpsConnection(input.host) : httpConnection(input.host));
  return {
    pod: r.view, podArg: r.podArg, resources: r.resources, mesh: r.mesh, dump: r.dump!, ...(r.istioVersion ? { istioVersion: r.istioVersion } : {}),
    host: input.host, port, simulation, dumpSource: r.dumpSource, staticFindings: r.staticFindings,
  };
}

const PATHS: Array<{ input: PathInput; expect: Array<{ code: string; target: string; severity: string }> }> = [
  { input: { dir: S('seed003-se-no-addresses-tcp'), pod: SAMPLE, kind: 'https', host: 'baidu.com' }, expect: [{ code: 'MD1002', target: 'ServiceEntry abc/traefik-cutom-name', severity: 'error' }] },
  { input: { dir: S('seed003-sidecar-hides-external-se'), pod: SAMPLE, kind: 'https', host: 'music.baidu.com' }, expect: [{ code: 'MD1002', target: 'ServiceEntry istio-demo/traefik-cutom-name', severity: 'error' }, { code: 'MD2002', target: 'Sidecar istio-demo/default', severity: 'warning' }] },
  { input: { dir: S('seed002-registry-only-unregistered'), pod: UBUNTU, kind: 'http', host: 'httpbin.org' }, expect: [{ code: 'MD2001', target: 'ConfigMap istio-system/istio', severity: 'error' }] },
  { input: { dir: S('seed002-registry-only-se-exportto-hidden'), pod: UBUNTU, kind: 'http', host: 'httpbin.org' }, expect: [{ code: 'MD2002', target: 'ServiceEntry egress-config/external-svc', severity: 'error' }] },
  { input: { dir: S('seed002-registry-only-se-sidecar-hidden'), pod: UBUNTU, kind: 'https', host: 'www.google.com' }, expect: [{ code: 'MD2002', target: 'Sidecar default/default', severity: 'error' }] },
  { input: { dir: F('seed000-istio-1.7-http-on-443'), pod: WEB, kind: 'https', host: 'www.google.com' }, expect: [{ code: 'MD1001', target: 'Service default/my-app', severity: 'error' }] },
];

const HEALTHY_PATHS: PathInput[] = [
  { dir: S('seed003-se-no-addresses-tcp-healthy'), pod: SAMPLE, kind: 'https', host: 'baidu.com' },
  { dir: S('seed003-sidecar-hides-external-se-healthy'), pod: SAMPLE, kind: 'https', host: 'music.baidu.com' },
  { dir: S('seed002-registry-only-unregistered-healthy'), pod: UBUNTU, kind: 'http', host: 'httpbin.org' },
  { dir: S('seed002-registry-only-se-exportto-hidden-healthy'), pod: UBUNTU, kind: 'http', host: 'httpbin.org' },
  { dir: S('seed002-registry-only-se-sidecar-hidden-healthy'), pod: UBUNTU, kind: 'https', host: 'www.google.com' },
  { dir: S('seed000-port-443-named-http-healthy'), pod: WEB, kind: 'https', host: 'www.google.com' },
];

const nameOf = (i: Proxy & { host?: string }) => `${i.dir.replace(/^test\/(scenarios|fixtures)\//, '').replace(/\/snapshot$/, '')}${i.host ? ` ${i.host}` : ''}`;
const SOURCE = /^(istioctl|kubectl) /;

describe('egress rules (RuleTester)', () => {
  describe('the path rules, over one simulated connection', () => {
    const options: RuleTesterOptions<PathInput, OutboundContext, unknown> = { model: (input) => ({ model: outboundPathEvidence(pathContext(input)) }), sourcePattern: SOURCE };
    for (const rule of OUTBOUND_PATH_RULES) {
      const invalid: InvalidRuleCase<PathInput>[] = PATHS.filter((p) => p.expect.some((e) => e.code === rule.code))
        .map((p) => ({ name: nameOf(p.input), input: p.input, expect: p.expect.filter((e) => e.code === rule.code) }));
      const valid: ValidRuleCase<PathInput>[] = [...HEALTHY_PATHS, ...PATHS.filter((p) => !p.expect.some((e) => e.code === rule.code)).map((p) => p.input)]
        .map((input) => ({ name: nameOf(input), input }));
      ruleTester(rule, options, { valid, invalid });
    }
  });

  describe('the per-proxy rules, over one sidecar', () => {
    type ProxyInput = Proxy & { noDump?: boolean; noLog?: boolean };
    const options: RuleTesterOptions<ProxyInput, ProxyEvidence, EgressShared> = {
      model: (input) => {
        const r = read(input);
        const dump = input.noDump ? undefined : r.dump;
        const ownership = new Map(dump ? [[443, portOwnership(dump, 443, r.resources, r.view.ip ? { sourceIp: r.view.ip } : {})] as const] : []);
        return {
          model: proxyEvidence({
            pod: r.view, podArg: r.podArg, resources: r.resources, mesh: r.mesh, ...(dump ? { dump } : { dumpMissing: `the snapshot holds no config dump of ${r.podArg}` }),
            dumpSource: r.dumpSource, ...(r.istioVersion ? { istioVersion: r.istioVersion } : {}), staticFindings: r.staticFindings,
            ...(r.accessLog && !input.noLog ? { accessLog: r.accessLog } : {}),
          }),
          shared: { ownership },
        };
      },
      sourcePattern: SOURCE,
    };
    const [tlsIntoHttp, catchAll] = UNMATCHED_TLS_RULES;
    const noDump = (p: Proxy) => ({ name: `${nameOf(p)} without its config dump`, input: { ...p, noDump: true }, because: `the snapshot holds no config dump of ${p.pod.split('/')[1]}.${p.pod.split('/')[0]}` });
    ruleTester(tlsIntoHttp!, options, {
      valid: [{ dir: S('seed000-port-443-named-http-healthy'), pod: WEB }, { dir: S('seed003-se-no-addresses-tcp'), pod: SAMPLE }].map((input) => ({ name: nameOf(input), input })),
      invalid: [{ name: 'seed000-istio-1.7-http-on-443', input: { dir: F('seed000-istio-1.7-http-on-443'), pod: WEB }, expect: [{ code: 'MD1001', target: 'Service default/my-app' }] }],
      skipped: [noDump({ dir: F('seed000-istio-1.7-http-on-443'), pod: WEB })],
    });
    ruleTester(catchAll!, options, {
      valid: [{ dir: S('seed003-se-no-addresses-tcp-healthy'), pod: SAMPLE }, { dir: F('seed000-istio-1.7-http-on-443'), pod: WEB }].map((input) => ({ name: nameOf(input), input })),
      invalid: [{ name: 'seed003-se-no-addresses-tcp', input: { dir: S('seed003-se-no-addresses-tcp'), pod: SAMPLE }, expect: [{ code: 'MD1002', target: 'ServiceEntry abc/traefik-cutom-name' }] }],
      skipped: [noDump({ dir: S('seed003-se-no-addresses-tcp'), pod: SAMPLE })],
    });
    ruleTester(registryOnlyHidden, options, {
      valid: [
        { name: 'check seed002, healthy twin', input: { dir: C('seed002-registry-only-unregistered-healthy'), pod: UBUNTU } },
        { name: 'check seed002: no ServiceEntry at all (MD2001\'s)', input: { dir: C('seed002-registry-only-unregistered'), pod: UBUNTU } },
      ],
      invalid: [{ name: 'check seed002, the ServiceEntry hidden by exportTo: block_all lines for httpbin.org', input: { dir: C('seed002-registry-only-se-exportto-hidden'), pod: UBUNTU }, expect: [{ code: 'MD2002', target: 'ServiceEntry egress-config/external-svc' }] }],
      skipped: [{ name: 'check seed002 (hidden) without its access log', input: { dir: C('seed002-registry-only-se-exportto-hidden'), pod: UBUNTU, noLog: true }, because: 'no access log of this proxy (access logging off, or the log was not collected)' }],
    });
    ruleTester(registryOnlyBlocked, options, {
      valid: [
        { name: 'check seed002, healthy twin', input: { dir: C('seed002-registry-only-unregistered-healthy'), pod: UBUNTU } },
        { name: 'check seed002: the ServiceEntry exists but is hidden (MD2002\'s)', input: { dir: C('seed002-registry-only-se-exportto-hidden'), pod: UBUNTU } },
      ],
      invalid: [{ name: 'check seed002: block_all lines for httpbin.org', input: { dir: C('seed002-registry-only-unregistered'), pod: UBUNTU }, expect: [{ code: 'MD2001', target: 'ConfigMap istio-system/istio' }] }],
      skipped: [
        { name: 'check seed002 without its access log', input: { dir: C('seed002-registry-only-unregistered'), pod: UBUNTU, noLog: true }, because: 'no access log of this proxy (access logging off, or the log was not collected)' },
        noDump({ dir: C('seed002-registry-only-unregistered'), pod: UBUNTU }),
      ],
    });
  });

  describe('MD2001 without a config dump', () => {
    type PartialInput = Proxy & { noLog?: boolean };
    const options: RuleTesterOptions<PartialInput, PartialOutboundEvidence, unknown> = {
      model: (input) => {
        const r = read(input);
        return {
          model: partialOutboundEvidence({
            pod: r.view, podArg: r.podArg, resources: r.resources, mesh: r.mesh, host: 'httpbin.org', port: 80, protocol: 'HTTP',
            ...(r.accessLog && !input.noLog ? { accessLog: r.accessLog } : {}),
          }),
        };
      },
      sourcePattern: SOURCE,
    };
    ruleTester(blockedWithoutDumpRule, options, {
      valid: [{ name: 'check seed002, healthy twin: a ServiceEntry declares httpbin.org', input: { dir: C('seed002-registry-only-unregistered-healthy'), pod: UBUNTU } }],
      invalid: [
        { name: 'check seed002: REGISTRY_ONLY and the block_all lines agree', input: { dir: C('seed002-registry-only-unregistered'), pod: UBUNTU }, expect: [{ code: 'MD2001', target: 'ConfigMap istio-system/istio' }] },
        { name: 'check seed002 without the log: the mesh config alone', input: { dir: C('seed002-registry-only-unregistered'), pod: UBUNTU, noLog: true }, expect: [{ code: 'MD2001', target: 'ConfigMap istio-system/istio' }] },
      ],
    });
  });
});
