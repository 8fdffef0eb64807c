import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { parseConfigDump } from '../../../src/model/envoy/config-dump.js';
import { parseNatTable } from '../../../src/model/iptables/parse.js';
import { servicesSelecting } from '../../../src/model/istio/services.js';
import { sidecarFor } from '../../../src/model/istio/sidecar.js';
import { podView } from '../../../src/model/k8s/pods.js';
import { parseKubeObjects, ResourceSet } from '../../../src/model/k8s/resources.js';
import { parseAccessLog } from '../../../src/model/logs/access-log.js';
import { parseListeningSockets } from '../../../src/model/sockets.js';
import { ingressDefaultEndpoint, type InboundFacts } from '../../../src/rules/inbound/facts.js';
import { forwardingForPort, inboundPorts } from '../../../src/rules/inbound/path.js';
import { REPO_ROOT } from '../../support/cli.js';

export const FIXTURES = path.join(REPO_ROOT, 'test/fixtures/inbound');
export const POD = 'app-5f7b9c6d8-q7w2e';

/** The facts of the first inbound port of a fixture, read with the model parsers (no source, no I/O in the rules). */
export function factsOf(scenario: string, drop: Array<'sockets' | 'nat' | 'log' | 'dump' | 'sidecar'> = []): InboundFacts {
  const root = path.join(FIXTURES, scenario);
  const read = (rel: string) => (existsSync(path.join(root, rel)) ? readFileSync(path.join(root, rel), 'utf8') : undefined);
  const set = new ResourceSet(parseKubeObjects(read('cluster/k8s-resources')!, 'k8s-resources'));
  for (const o of read('cluster/crs') ? parseKubeObjects(read('cluster/crs')!, 'crs') : []) set.add(o);
  const pod = podView(set.get('Pod', 'default', POD)!);
  const port = inboundPorts(pod, servicesSelecting(set, pod.object))[0]!;
  const facts: InboundFacts = { pod, port };
  const { sidecar } = sidecarFor({ namespace: pod.namespace, name: pod.name, labels: pod.labels }, set);
  const endpoint = sidecar ? ingressDefaultEndpoint(sidecar.object.spec, port.appPort!) : undefined;
  if (sidecar && endpoint && !drop.includes('sidecar')) facts.ingressDefaultEndpoint = { sidecar: sidecar.ref, endpoint };
  const proxy = `proxies/default/${POD}`;
  const dumpText = read(`${proxy}/config_dump`);
  if (dumpText && !drop.includes('dump')) {
    const dump = parseConfigDump(dumpText, 'dump');
    facts.forwarding = { value: forwardingForPort(dump, port.appPort!), source: 'istioctl proxy-config cluster' };
    facts.istioVersion = dump.versions?.istio;
  }
  const ss = read(`${proxy}/netstat`);
  if (ss && !drop.includes('sockets')) facts.sockets = { value: parseListeningSockets(ss), source: 'kubectl exec -- ss -ltnH' };
  const log = read(`${proxy}/istio-proxy.log`);
  if (log && !drop.includes('log')) facts.accessLog = { value: parseAccessLog(log).entries, source: 'kubectl logs' };
  const init = read(`${proxy}/istio-init.log`);
  if (init && !drop.includes('nat')) facts.nat = { value: parseNatTable(init), source: 'kubectl logs -c istio-init' };
  return facts;
}

