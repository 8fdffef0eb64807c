import { readFileSync } from 'node:fs';
import path from 'node:path';
import { parseConfigDump } from '../../../src/model/envoy/config-dump.js';
import { parseKubeObjects, ResourceSet } from '../../../src/model/k8s/resources.js';
import { configStateEvidence, inboundPathCrosses, outboundPathCrosses, rejectedConfig, warmingConfig, type ConfigStateEvidence } from '../../../src/rules/proxy/config-state.js';
import { REPO_ROOT } from '../../support/cli.js';
import { luaEnvoyFilter } from '../../support/rejected-dump.js';
import { ruleTester, type RuleTesterOptions } from '../../support/rule-tester.js';

/**
 * The config-state rules (MD7001, MD7002) through the RuleTester, over the
 * whole proxy as check runs them and over one diagnosed path as the
 * diagnoses do. Dumps: real Envoy 1.40's recorded rejection of a Lua filter
 * (test/fixtures/config-state/PROVENANCE.md), and the oracle's gateway whose
 * credential istiod cannot find, its listener and secret warming
 * (test/scenarios/gw-credential-missing, and its healthy twin).
 */
const RECORDED = path.join(REPO_ROOT, 'test/fixtures/config-state/envoy-1.40-rejected-lua.config_dump.json');
const GATEWAY = 'istio-system/istio-ingressgateway-7d4f8b6c9-h5k2m';
const gatewayDump = (scenario: string) => path.join(REPO_ROOT, 'test/scenarios', scenario, 'snapshot/proxies', GATEWAY, 'config_dump?include_eds');

type Input = {
  dump?: string;
  /** The EnvoyFilter that patched the Lua filter in, applying to the pod. */
  envoyFilter?: boolean;
  path?: 'inbound 8080' | 'outbound 80';
};

const APP = { namespace: 'default', name: 'app-0', labels: { app: 'app' } };
const GATEWAY_POD = { namespace: 'istio-system', name: 'istio-ingressgateway-7d4f8b6c9-h5k2m', labels: { istio: 'ingressgateway' } };

function evidenceOf(input: Input): ConfigStateEvidence {
  const pod = input.dump === undefined || input.dump === RECORDED ? APP : GATEWAY_POD;
  const resources = new ResourceSet(input.envoyFilter ? parseKubeObjects(luaEnvoyFilter(pod.namespace, pod.labels), 'EnvoyFilter') : []);
  return {
    pod, resources, rootNamespace: 'istio-system',
    ...(input.dump ? { dump: parseConfigDump(readFileSync(input.dump, 'utf8'), input.dump), dumpProvenance: { source: `kubectl exec ${pod.name} -n ${pod.namespace} -c istio-proxy -- pilot-agent request GET config_dump`, file: 'config_dump' } } : { dumpMissing: `the snapshot holds no config dump of ${pod.name}.${pod.namespace}` }),
    ...(input.path === 'inbound 8080' ? { path: { crosses: inboundPathCrosses([8080]), text: 'the inbound path to port 8080' } } : {}),
    ...(input.path === 'outbound 80' ? { path: { crosses: outboundPathCrosses(80), text: 'requests to port 80' } } : {}),
  };
}

const OPTIONS: RuleTesterOptions<Input, ConfigStateEvidence, unknown> = {
  model: (input) => ({ model: configStateEvidence(evidenceOf(input)) }),
  sourcePattern: /^(istioctl|kubectl) /,
};
const NO_DUMP = { name: 'no config dump', input: {}, because: 'the snapshot holds no config dump of app-0.default' };

describe('config-state rules (RuleTester)', () => {
  ruleTester(rejectedConfig, OPTIONS, {
    valid: [
      { name: 'a gateway whose listener only warms: nothing rejected', input: { dump: gatewayDump('gw-credential-missing') } },
      { name: 'the healthy gateway', input: { dump: gatewayDump('gw-credential-missing-healthy') } },
      { name: 'real Envoy 1.40 rejected virtualInbound, off an outbound path to port 80', input: { dump: RECORDED, path: 'outbound 80' } },
    ],
    invalid: [
      { name: 'real Envoy 1.40 rejected virtualInbound, no EnvoyFilter: the pod', input: { dump: RECORDED }, expect: [{ code: 'MD7001', target: 'Pod default/app-0', severity: 'error' }] },
      { name: 'the same on the inbound path, the EnvoyFilter that patched in envoy.lua: the EnvoyFilter', input: { dump: RECORDED, envoyFilter: true, path: 'inbound 8080' }, expect: [{ code: 'MD7001', target: 'EnvoyFilter default/lua-auth', severity: 'error' }] },
    ],
    skipped: [NO_DUMP],
  });

  ruleTester(warmingConfig, OPTIONS, {
    valid: [
      { name: 'real Envoy 1.40: a rejection, nothing warming', input: { dump: RECORDED } },
      { name: 'the healthy gateway', input: { dump: gatewayDump('gw-credential-missing-healthy') } },
      { name: 'the warming gateway listener is off an inbound path', input: { dump: gatewayDump('gw-credential-missing'), path: 'inbound 8080' } },
    ],
    invalid: [{
      name: 'the gateway waits for its credential: listener 0.0.0.0_8443 and the secret warm',
      input: { dump: gatewayDump('gw-credential-missing') },
      expect: [{ code: 'MD7002', target: `Pod ${GATEWAY}` }, { code: 'MD7002', target: `Pod ${GATEWAY}` }],
    }],
    skipped: [NO_DUMP],
  });
});
