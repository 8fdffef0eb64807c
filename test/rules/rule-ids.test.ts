import { expect } from 'chai';
import { AUTHZ_RULES } from '../../src/rules/authz/index.js';
import { CERT_RULES } from '../../src/rules/certs/index.js';
import { UNMATCHED_TLS_RULES } from '../../src/rules/egress/unmatched-tls.js';
import { BLOCKED_HOST_RULES } from '../../src/rules/egress/blocked-hosts.js';
import { GATEWAY_RULES } from '../../src/rules/gateway/index.js';
import { INBOUND_RULES } from '../../src/rules/inbound/rules.js';
import { CONTROL_PLANE_RULES } from '../../src/rules/mesh/control-plane.js';
import { STATIC_RULES } from '../../src/rules/mesh/index.js';
import { CONFIG_STATE_RULES } from '../../src/rules/proxy/config-state.js';
import { OUTBOUND_PATH_RULES } from '../../src/rules/egress/outbound-path.js';
import { blockedWithoutDumpRule } from '../../src/rules/egress/blocked-without-dump.js';
import { UPSTREAM_RULES } from '../../src/rules/upstream/index.js';

/** The rule contract (src/rules/rule.ts): an id is kebab-case, prefixed by the code it reports; ids are unique. */
describe('rule ids', () => {
  const all = [...AUTHZ_RULES, ...CERT_RULES, ...UNMATCHED_TLS_RULES, ...BLOCKED_HOST_RULES, ...GATEWAY_RULES, ...INBOUND_RULES, ...CONTROL_PLANE_RULES, ...STATIC_RULES, ...CONFIG_STATE_RULES, ...OUTBOUND_PATH_RULES, blockedWithoutDumpRule, ...UPSTREAM_RULES];
  it('each id starts with its code, in lower case', () => {
    expect(all.filter((r) => !r.id.startsWith(`${r.code.toLowerCase()}-`)).map((r) => `${r.id} (${r.code})`)).to.deep.equal([]);
  });
  it('no two rules share an id', () => {
    const ids = all.map((r) => r.id);
    expect(ids.filter((id, i) => ids.indexOf(id) !== i)).to.deep.equal([]);
  });
});
