import { expect } from 'chai';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { parseConfigDump } from '../../../src/model/envoy/config-dump.js';
import { inboundAuthorization, policyOrigin, rbacDenialPolicy } from '../../../src/model/envoy/rbac.js';
import { decideAuthorization, stringMatches } from '../../../src/model/envoy/rbac-match.js';
import { REPO_ROOT } from '../../support/cli.js';

// Config dumps written by Istio's own generator (tools/istio-oracle) from the scenarios' AuthorizationPolicies.
function httpbinDump(scenario: string) {
  const file = path.join(REPO_ROOT, 'test/scenarios', scenario, 'snapshot/proxies/foo/httpbin-94fdb8c79-h9zrq/config_dump?include_eds');
  return parseConfigDump(readFileSync(file, 'utf8'), scenario);
}
const REQUEST = { method: 'GET', path: '/headers', port: 8080 };
const SLEEP = 'spiffe://cluster.local/ns/foo/sa/sleep';

describe('Envoy RBAC filters (model/envoy/rbac)', () => {
  it('reads Istio\'s policy names, CUSTOM ones and the bad-CUSTOM DENY included', () => {
    expect(policyOrigin('ns[foo]-policy[deny-all]-rule[0]')).to.deep.equal({ namespace: 'foo', name: 'deny-all', rule: 0, badCustomAction: false });
    expect(policyOrigin('istio-ext-authz-sample-ext-authz-http-ns[foo]-policy[ext-authz]-rule[2]-deny-due-to-bad-CUSTOM-action'))
      .to.deep.equal({ namespace: 'foo', name: 'ext-authz', rule: 2, provider: 'sample-ext-authz-http', badCustomAction: true });
    expect(policyOrigin('my-own-policy')).to.equal(undefined);
    expect(rbacDenialPolicy('rbac_access_denied_matched_policy[ns[foo]-policy[deny-all]-rule[0]]')).to.equal('ns[foo]-policy[deny-all]-rule[0]');
    expect(rbacDenialPolicy('rbac_access_denied_matched_policy[none]')).to.equal('none');
    expect(rbacDenialPolicy('via_upstream')).to.equal(undefined);
  });

  it('finds the HTTP RBAC filters of the per-port inbound chains, DENY before ALLOW as istiod orders them', () => {
    const chains = inboundAuthorization(httpbinDump('authz-deny-before-allow'), 8080);
    expect(chains.map((c) => `${c.chain} ${c.transport} ${c.layer}`)).to.deep.equal(['0.0.0.0_8080 tls http', '0.0.0.0_8080 raw_buffer http']);
    expect(chains[0].rbac.map((f) => f.rules?.action)).to.deep.equal(['DENY', 'ALLOW']);
    expect(chains[0].rbac[0].rules?.policies.map((p) => p.name)).to.deep.equal(['ns[foo]-policy[deny-headers]-rule[0]', 'ns[foo]-policy[deny-headers]-rule[1]']);
  });

  it('decides as Envoy does: a matching DENY wins, and the ALLOW it overrides is still evaluated', () => {
    const [chain] = inboundAuthorization(httpbinDump('authz-deny-before-allow'), 8080);
    const denied = decideAuthorization(chain, { ...REQUEST, peerPrincipal: SLEEP });
    expect(denied.outcome.kind).to.equal('denied-by-deny');
    expect(denied.outcome.kind === 'denied-by-deny' && denied.outcome.policy.name).to.equal('ns[foo]-policy[deny-headers]-rule[1]');
    expect(denied.evaluations[1].matches.map((m) => m.matched)).to.deep.equal([true]);
    expect(decideAuthorization(chain, { ...REQUEST, path: '/get', peerPrincipal: SLEEP }).outcome.kind).to.equal('allowed');
    expect(decideAuthorization(chain, { ...REQUEST, method: 'POST', peerPrincipal: SLEEP }).outcome.kind).to.equal('allowed');
  });

  it('an authenticated principal never matches without a peer certificate, and says so', () => {
    const [chain] = inboundAuthorization(httpbinDump('authz-principals-plaintext-healthy'), 8080);
    expect(decideAuthorization(chain, { ...REQUEST, peerPrincipal: SLEEP }).outcome.kind).to.equal('allowed');
    const plaintext = decideAuthorization(chain, REQUEST);
    expect(plaintext.outcome.kind).to.equal('denied-no-allow');
    expect(plaintext.evaluations[0].matches[0].why.join()).to.match(/carried no client certificate/);
    const other = decideAuthorization(chain, { ...REQUEST, peerPrincipal: 'spiffe://cluster.local/ns/bar/sa/x' });
    expect(other.evaluations[0].matches[0].why.join()).to.match(/peer identity spiffe:\/\/cluster.local\/ns\/bar\/sa\/x is not exact "spiffe:\/\/cluster.local\/ns\/foo\/sa\/sleep"/);
  });

  it('a rule-less ALLOW denies all; a requestPrincipals rule without jwt_authn cannot match; with it, it is undecided', () => {
    const [nothing] = inboundAuthorization(httpbinDump('authz-allow-nothing'), 8080);
    expect(decideAuthorization(nothing, { ...REQUEST, peerPrincipal: SLEEP }).outcome.kind).to.equal('denied-no-allow');
    const [jwt] = inboundAuthorization(httpbinDump('authz-request-principals-no-requestauthn'), 8080);
    expect(decideAuthorization(jwt, { ...REQUEST, peerPrincipal: SLEEP }).outcome.kind).to.equal('denied-no-allow');
    const [withAuthn] = inboundAuthorization(httpbinDump('authz-request-principals-no-requestauthn-healthy'), 8080);
    expect(withAuthn.httpFilters).to.include('envoy.filters.http.jwt_authn');
    expect(decideAuthorization(withAuthn, { ...REQUEST, peerPrincipal: SLEEP }).outcome.kind).to.equal('unknown');
  });

  it('a CUSTOM provider: shadow rules trigger ext_authz; unbuildable, a DENY', () => {
    const [custom] = inboundAuthorization(httpbinDump('authz-custom-unknown-provider-healthy'), 8080);
    expect(custom.rbac[0].purpose).to.equal('custom-trigger');
    expect(custom.extAuthz).to.deep.equal([{ layer: 'http', cluster: 'outbound|8000||ext-authz.foo.svc.cluster.local', uri: 'http://ext-authz.foo.svc.cluster.local' }]);
    expect(decideAuthorization(custom, REQUEST).outcome.kind).to.equal('ext-authz');
    expect(decideAuthorization(custom, { ...REQUEST, path: '/get' }).outcome.kind).to.equal('allowed');
    const [bad] = inboundAuthorization(httpbinDump('authz-custom-unknown-provider'), 8080);
    expect(decideAuthorization(bad, REQUEST).outcome.kind).to.equal('denied-by-deny');
  });

  it('string matchers: exact, prefix, suffix, regex (full match), ignore_case', () => {
    expect(stringMatches({ exact: '/a' }, '/a')).to.equal(true);
    expect(stringMatches({ prefix: '/admin/' }, '/admin/x')).to.equal(true);
    expect(stringMatches({ suffix: '.png' }, '/x.png')).to.equal(true);
    expect(stringMatches({ safe_regex: { regex: '.*/ns/foo/.*' } }, SLEEP)).to.equal(true);
    expect(stringMatches({ safe_regex: { regex: '/ns/foo/' } }, SLEEP)).to.equal(false);
    expect(stringMatches({ exact: 'GET', ignore_case: true }, 'get')).to.equal(true);
    expect(stringMatches({ safe_regex: { regex: '(' } }, 'x')).to.equal('unknown');
  });
});
