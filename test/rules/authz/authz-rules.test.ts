import { readFileSync } from 'node:fs';
import path from 'node:path';
import { parseConfigDump } from '../../../src/model/envoy/config-dump.js';
import { inboundAuthorization } from '../../../src/model/envoy/rbac.js';
import { decideAuthorization } from '../../../src/model/envoy/rbac-match.js';
import { authorizationPoliciesFor, requestAuthenticationsFor } from '../../../src/model/istio/authorization-policy.js';
import { meshConfigFrom, type MeshConfigView } from '../../../src/model/istio/mesh-config.js';
import { parseKubeObjects, ResourceSet } from '../../../src/model/k8s/resources.js';
import { allowNothing } from '../../../src/rules/authz/allow-nothing.js';
import { decideDenial } from '../../../src/rules/authz/denial.js';
import { authzEvidence, type AuthzEvidence, type AuthzShared } from '../../../src/rules/authz/evidence.js';
import { foreignTrustDomain } from '../../../src/rules/authz/foreign-trust-domain.js';
import { noAllowMatch } from '../../../src/rules/authz/no-allow-match.js';
import { noPeerIdentity } from '../../../src/rules/authz/no-peer-identity.js';
import { REPO_ROOT } from '../../support/cli.js';
import { ruleTester } from '../../support/rule-tester.js';

/**
 * The why-403 rules on evidence built from the oracle scenarios (Istio's own
 * RBAC filters and the scenario's policies), with the request and the mesh
 * changed case by case: the edges the command tests do not reach.
 */
interface Input {
  scenario: string;
  peer?: string;
  transport?: AuthzEvidence['client']['transport'];
  mesh?: Partial<MeshConfigView>;
  noDump?: boolean;
  noPolicies?: boolean;
}

const SERVER = { namespace: 'foo', name: 'httpbin-94fdb8c79-h9zrq' };
const SLEEP = 'spiffe://cluster.local/ns/foo/sa/sleep';

function evidenceOf(input: Input): AuthzEvidence {
  const snap = path.join(REPO_ROOT, 'test/scenarios', input.scenario, 'snapshot');
  const resources = new ResourceSet([
    ...parseKubeObjects(readFileSync(path.join(snap, 'cluster/crs'), 'utf8'), 'crs'),
    ...parseKubeObjects(readFileSync(path.join(snap, 'cluster/k8s-resources'), 'utf8'), 'k8s-resources'),
  ]);
  const mesh = { ...meshConfigFrom(resources), ...input.mesh };
  const workload = { namespace: 'foo', labels: { app: 'httpbin', version: 'v1' } };
  const request = { method: 'GET', path: '/headers', port: 8080, from: 'flags' as const, ...(input.peer ? { peerPrincipal: input.peer } : {}) };
  const dump = parseConfigDump(readFileSync(path.join(snap, `proxies/foo/${SERVER.name}/config_dump?include_eds`), 'utf8'), 'dump');
  const chain = inboundAuthorization(dump, 8080)[0];
  return {
    client: { pod: { namespace: 'foo', name: 'sleep-5b597748b4-77kj5' }, identity: SLEEP, ...(input.transport ? { transport: input.transport } : {}) },
    server: { pod: SERVER, labels: workload.labels, port: 8080, mtlsMode: 'PERMISSIVE' },
    request,
    ...(input.noDump ? {} : { authorization: { source: 'config_dump', chain, decision: decideAuthorization(chain, request) } }),
    policies: input.noPolicies ? [] : authorizationPoliciesFor(resources, workload, mesh.rootNamespace),
    requestAuthentications: requestAuthenticationsFor(resources, workload, mesh.rootNamespace),
    mesh,
  };
}

const model = (input: Input) => {
  const e = evidenceOf(input);
  return { model: authzEvidence(e), shared: { denial: decideDenial(e) } as AuthzShared };
};
const options = { model, sourcePattern: /^(kubectl |istioctl |config_dump)/ };

describe('why-403 rules (src/rules/authz)', () => {
  ruleTester(noPeerIdentity, options, {
    valid: [
      { name: 'the same policy over mTLS: sleep\'s identity matches', input: { scenario: 'authz-principals-plaintext-healthy', peer: SLEEP, transport: 'istio-mtls' } },
      { name: 'a namespaces rule over mTLS: the identity carries the namespace', input: { scenario: 'authz-allow-nothing-healthy', peer: SLEEP, transport: 'istio-mtls' } },
    ],
    invalid: [
      { name: 'plaintext, principals', input: { scenario: 'authz-principals-plaintext', transport: 'plaintext' }, expect: [{ code: 'MD6002', target: 'AuthorizationPolicy foo/allow-sleep' }] },
      { name: 'plaintext, namespaces', input: { scenario: 'authz-allow-nothing-healthy', transport: 'plaintext' }, expect: [{ code: 'MD6002', target: 'AuthorizationPolicy foo/allow-nothing' }] },
    ],
    skipped: [
      { name: 'no policy applies', input: { scenario: 'authz-principals-plaintext', noPolicies: true }, because: 'no AuthorizationPolicy applies to the server' },
      { name: 'neither the client\'s transport nor the server\'s filters are known', input: { scenario: 'authz-principals-plaintext', noDump: true }, because: /neither what the client sends nor the server's RBAC filters/ },
    ],
  });

  ruleTester(foreignTrustDomain, options, {
    valid: [
      { name: 'the foreign trust domain is a trustDomainAlias', input: { scenario: 'authz-foreign-trust-domain', peer: SLEEP, mesh: { raw: { trustDomainAliases: ['example.com'] } } } },
    ],
    invalid: [
      { name: 'example.com in a cluster.local mesh', input: { scenario: 'authz-foreign-trust-domain', peer: SLEEP }, expect: [{ code: 'MD6003', target: 'AuthorizationPolicy foo/allow-sleep' }] },
    ],
  });

  ruleTester(allowNothing, options, {
    valid: [{ name: 'an ALLOW policy with a rule beside it', input: { scenario: 'authz-allow-nothing-healthy', transport: 'plaintext' } }],
    invalid: [{ name: 'the only ALLOW policy has no rules', input: { scenario: 'authz-allow-nothing', peer: SLEEP }, expect: [{ code: 'MD6005', target: 'AuthorizationPolicy foo/allow-nothing' }] }],
  });

  ruleTester(noAllowMatch, options, {
    valid: [{ name: 'allowed', input: { scenario: 'authz-principals-plaintext-healthy', peer: SLEEP } }],
    invalid: [
      // Another workload's identity: nothing more specific explains it, so the general verdict lists why each rule did not match.
      { name: 'a principal the policy does not name', input: { scenario: 'authz-principals-plaintext-healthy', peer: 'spiffe://cluster.local/ns/bar/sa/other' }, expect: [{ code: 'MD6007', target: 'AuthorizationPolicy foo/allow-sleep' }] },
    ],
    skipped: [{ name: 'no policies and no config dump', input: { scenario: 'authz-allow-nothing', noDump: true, noPolicies: true }, because: /neither the AuthorizationPolicies nor the server's RBAC filters/ }],
  });
});
