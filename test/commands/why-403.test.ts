import { expect } from 'chai';
import path from 'node:path';
import { jsonOf, REPO_ROOT, runCli } from '../support/cli.js';

const SCENARIOS = path.join(REPO_ROOT, 'test/scenarios');
const CLIENT = 'sleep-5b597748b4-77kj5.foo';

// Each verdict on the oracle's config (Istio's own generator wrote the RBAC filters from the
// scenario's AuthorizationPolicies), a broken scenario and its healthy twin.
const CASES: Array<{ scenario: string; code: string; target: string; says: RegExp }> = [
  { scenario: 'authz-deny-before-allow', code: 'MD6001', target: 'foo/deny-headers', says: /spec\.rules\[1\].*DENY policies are evaluated before ALLOW, so ns\[foo\]-policy\[allow-sleep\]-rule\[0\] never gets to allow it/ },
  { scenario: 'authz-principals-plaintext', code: 'MD6002', target: 'foo/allow-sleep', says: /spec\.rules\[0\]\.from\[0\]\.source\.principals\[0\] \(cluster\.local\/ns\/foo\/sa\/sleep\).*sends plaintext \(DestinationRule foo\/httpbin tls\.mode DISABLE\).*PERMISSIVE/ },
  { scenario: 'authz-foreign-trust-domain', code: 'MD6003', target: 'foo/allow-sleep', says: /allows example\.com\/ns\/foo\/sa\/sleep \(spec\.rules\[0\]\.from\[0\]\.source\.principals\[0\]\), in trust domain example\.com, but this mesh's trust domain is cluster\.local/ },
  { scenario: 'authz-request-principals-no-requestauthn', code: 'MD6004', target: 'foo/require-jwt', says: /spec\.rules\[0\]\.from\[0\]\.source\.requestPrincipals\[0\].*no RequestAuthentication selects foo\/httpbin-94fdb8c79-h9zrq.*no jwt_authn filter/ },
  { scenario: 'authz-allow-nothing', code: 'MD6005', target: 'foo/allow-nothing', says: /ALLOW policy with no rules/ },
  { scenario: 'authz-custom-provider-denies', code: 'MD6008', target: 'foo/ext-authz', says: /sends GET \/headers on port 8080 from sleep-5b597748b4-77kj5\.foo to provider sample-ext-authz-http \(ext-authz\.foo\.svc\.cluster\.local:8000\), and the provider denied it \(403 UAEX ext_authz_denied\)/ },
  { scenario: 'authz-custom-unknown-provider', code: 'MD6006', target: 'foo/ext-authz', says: /provider sample-ext-authz-http.*extensionProviders does not define it.*DENY rule \(istio-ext-authz-sample-ext-authz-http-ns\[foo\]-policy\[ext-authz\]-rule\[0\]-deny-due-to-bad-CUSTOM-action\)/ },
];

async function why403(scenario: string, requestPath = '/headers') {
  const result = await runCli(['why-403', CLIENT, '--to', 'httpbin:8000', '--path', requestPath, '--from', path.join(SCENARIOS, scenario, 'snapshot'), '-o', 'json']);
  return { result, report: jsonOf(result) };
}

describe('why-403 command (offline, oracle scenarios)', () => {
  for (const c of CASES) {
    it(`${c.scenario}: ${c.code} blames AuthorizationPolicy ${c.target} with the field, evidence and fix; exit 3`, async () => {
      const { result, report } = await why403(c.scenario);
      expect(result.exitCode, result.stderr).to.equal(3);
      expect(report.command).to.equal('why-403');
      expect(report.verdict.status).to.equal('problem');
      expect(report.findings.map((f: any) => f.code)).to.deep.equal([c.code]);
      const f = report.findings[0];
      const [namespace, name] = c.target.split('/');
      expect(f.target).to.deep.equal({ kind: 'AuthorizationPolicy', namespace, name });
      expect(f.message).to.match(c.says);
      expect(f.remediation.text).to.be.a('string').and.not.empty;
      expect(f.docs).to.equal(`kubectl mesh-doctor docs ${c.code}`);
      // Evidence cites the server's RBAC filters from the snapshot and the policy as kubectl shows it.
      expect(f.evidence.some((e: any) => e.file === 'proxies/foo/httpbin-94fdb8c79-h9zrq/config_dump?include_eds' && /envoy\.filters\.http\.rbac/.test(e.excerpt))).to.equal(true);
      expect(f.evidence.some((e: any) => e.source === `kubectl get authorizationpolicy ${name} -n ${namespace} -o yaml`)).to.equal(true);
    });

    it(`${c.scenario}-healthy: no finding`, async () => {
      const { result, report } = await why403(`${c.scenario}-healthy`);
      expect(report.findings, result.stderr).to.deep.equal([]);
      expect(result.exitCode).to.not.equal(3);
    });
  }

  it('a twin the config decides is healthy, exit 0', async () => {
    for (const twin of ['authz-deny-before-allow-healthy', 'authz-principals-plaintext-healthy', 'authz-foreign-trust-domain-healthy', 'authz-allow-nothing-healthy']) {
      const { result, report } = await why403(twin);
      expect(report.verdict.status, twin).to.equal('healthy');
      expect(result.exitCode, twin).to.equal(0);
      expect(report.data.denial.kind, twin).to.equal('allowed');
    }
  });

  it('a TCP port (network RBAC filter): the DENY policy that closed the connection, from the TCP line\'s termination details (recorded in the mesh lab); the twin let through', async () => {
    const { result, report } = await why403('authz-tcp-deny');
    expect(result.exitCode, result.stderr).to.equal(3);
    expect(report.findings.map((f: any) => `${f.code} ${f.target.namespace}/${f.target.name}`)).to.deep.equal(['MD6001 foo/deny-foo-tcp']);
    const f = report.findings[0];
    expect(f.message).to.contain('denies a TCP connection on port 8080 from sleep-5b597748b4-77kj5.foo: its spec.rules[0] matches (named in the server\'s access log)');
    expect(f.remediation.text).to.contain('(its to.operation ports, from.source, when)');
    expect(f.evidence.some((e: any) => /envoy\.filters\.network\.rbac/.test(e.excerpt))).to.equal(true);
    expect(f.evidence.some((e: any) => /"- - -" 0 - - rbac_access_denied_matched_policy\[ns\[foo\]-policy\[deny-foo-tcp\]-rule\[0\]\]/.test(e.excerpt))).to.equal(true);
    expect(report.data.request.tcp).to.equal(true);
    const twin = await why403('authz-tcp-deny-healthy');
    expect(twin.result.exitCode, twin.result.stderr).to.equal(0);
    expect(twin.report.verdict.summary).to.match(/^a TCP connection from .* is allowed: the server's last access-log entry for the request is a TCP connection the server let through/);
  });

  it('the CUSTOM provider\'s answer is only in the log: its 200 (recorded in the mesh lab) makes the twin healthy, from the access log', async () => {
    const { result, report } = await why403('authz-custom-provider-denies-healthy');
    expect(result.exitCode).to.equal(0);
    expect(report.verdict.status).to.equal('healthy');
    expect(report.data.denial).to.include({ kind: 'allowed', basis: 'access-log' });
    expect(report.verdict.summary).to.match(/answered 200 via_upstream/);
  });

  it('a twin whose decision needs what the config cannot tell (a JWT, a CUSTOM provider\'s answer) is inconclusive, not healthy', async () => {
    const jwt = await why403('authz-request-principals-no-requestauthn-healthy');
    expect(jwt.report.verdict.status).to.equal('inconclusive');
    expect(jwt.report.verdict.summary).to.match(/jwt_authn/);
    const custom = await why403('authz-custom-unknown-provider-healthy');
    expect(custom.report.verdict.status).to.equal('inconclusive');
    expect(custom.report.verdict.summary).to.match(/CUSTOM provider \(ext_authz\) of AuthorizationPolicy foo\/ext-authz/);
  });

  it('the steps read as the diagnosis, and the plaintext case says the peer identity the server saw', async () => {
    const { report } = await why403('authz-principals-plaintext');
    expect(report.steps.map((s: any) => s.title)).to.deep.equal([
      'Destination: the Service and the server pod behind it',
      'Server httpbin-94fdb8c79-h9zrq.foo: 403 lines in its access log',
      'Client sleep-5b597748b4-77kj5.foo: what it sends, and the identity it presents',
      'Server httpbin-94fdb8c79-h9zrq.foo: mTLS on port 8080 and the RBAC filters Envoy enforces',
      'AuthorizationPolicies and RequestAuthentications that apply to the server',
      'Who denied, and why',
    ]);
    // The scenario carries the server's log recorded in the mesh lab: the request and the verdict come from its real lines.
    expect(report.data.request).to.deep.equal({ method: 'GET', path: '/headers', from: 'access-log' });
    expect(report.data.denial).to.include({ kind: 'no-allow-match', basis: 'access-log' });
    const md6002 = report.findings[0];
    expect(md6002.evidence.map((e: any) => e.excerpt).join('\n')).to.match(/checking request: requestedServerName: , .*ssl: none/);
    expect(report.data.client.sends).to.equal('plaintext');
    expect(report.data.server).to.deep.equal({ pod: 'httpbin-94fdb8c79-h9zrq.foo', port: 8080, mtls: 'PERMISSIVE' });
    const twin = await why403('authz-principals-plaintext-healthy');
    expect(twin.report.data.request.peerIdentity).to.equal('spiffe://cluster.local/ns/foo/sa/sleep');
  });

  it('the access log decides where it has the line; without one the RBAC filters predict the verdict', async () => {
    const { report } = await why403('authz-deny-before-allow', '/headers');
    expect(report.data.denial).to.include({ kind: 'deny-policy', basis: 'access-log', rbacPolicy: 'ns[foo]-policy[deny-headers]-rule[1]' });
    const predicted = await why403('authz-foreign-trust-domain');
    expect(predicted.report.data.denial).to.include({ kind: 'no-allow-match', basis: 'config' });
    expect(predicted.report.data.request.from).to.equal('flags');
  });

  it('a path the DENY rule does not cover is allowed (the verdict follows the request, not just the policies)', async () => {
    const { result, report } = await why403('authz-deny-before-allow', '/get');
    expect(result.exitCode).to.equal(0);
    expect(report.verdict.status).to.equal('healthy');
  });

  it('without --to: a usage error, exit 2', async () => {
    const result = await runCli(['why-403', CLIENT, '--from', path.join(SCENARIOS, 'authz-allow-nothing', 'snapshot')]);
    expect(result.exitCode).to.equal(2);
    expect(result.stderr).to.match(/--to/);
  });
});
