import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { expect } from 'chai';
import { parseKubeObjects, ResourceSet } from '../../../src/model/k8s/resources.js';
import { DEFAULT_MESH_CONFIG, type MeshConfigView } from '../../../src/model/istio/mesh-config.js';
import { runStaticChecks, STATIC_RULES } from '../../../src/model/istio/static-checks.js';
import type { IstioVersion } from '../../../src/model/istio/version-behaviour.js';

const here = dirname(fileURLToPath(import.meta.url));
export const FIXTURES = join(here, '..', '..', 'fixtures', 'istio');

export function fixture(name: string): string {
  return readFileSync(join(FIXTURES, name), 'utf8');
}

export function resources(...yamls: string[]): ResourceSet {
  return new ResourceSet(yamls.flatMap((y, i) => parseKubeObjects(y, `fixture ${i}`)));
}

export interface ValidCase {
  name: string;
  yaml: string;
  mesh?: MeshConfigView;
  istioVersion?: IstioVersion;
}

export interface InvalidCase extends ValidCase {
  expect: Array<{ code: string; target: string; severity?: string }>;
}

/**
 * ESLint RuleTester for static rules: `valid` cases produce no finding from
 * the rule, `invalid` cases produce exactly the listed (code, target) pairs.
 * Targets are written `Kind namespace/name`.
 */
export function ruleTester(ruleId: string, cases: { valid: ValidCase[]; invalid: InvalidCase[] }): void {
  const rule = STATIC_RULES.find((r) => r.id === ruleId);
  if (!rule) throw new Error(`no rule ${ruleId}`);
  describe(ruleId, () => {
    for (const c of cases.valid) {
      it(`valid: ${c.name}`, () => {
        const { findings } = runStaticChecks(resources(c.yaml), { mesh: c.mesh ?? DEFAULT_MESH_CONFIG, istioVersion: c.istioVersion, rules: [rule] });
        expect(findings.map((f) => `${f.code} ${f.target.kind} ${f.target.namespace}/${f.target.name}`)).to.deep.equal([]);
      });
    }
    for (const c of cases.invalid) {
      it(`invalid: ${c.name}`, () => {
        const { findings } = runStaticChecks(resources(c.yaml), { mesh: c.mesh ?? DEFAULT_MESH_CONFIG, istioVersion: c.istioVersion, rules: [rule] });
        const got = findings.map((f) => ({ code: f.code, target: `${f.target.kind} ${f.target.namespace}/${f.target.name}`, ...(c.expect.some((e) => e.severity) ? { severity: f.severity } : {}) }));
        expect(got).to.deep.equal(c.expect);
        for (const f of findings) {
          expect(f.evidence.length, 'evidence').to.be.greaterThan(0);
          for (const e of f.evidence) {
            expect(e.source, 'evidence source').to.match(/^(kubectl|istioctl) /);
            expect(e.excerpt, 'evidence excerpt').to.not.equal('');
          }
          expect(f.remediation.text).to.not.equal('');
          expect(f.docs).to.equal(`kubectl mesh-doctor docs ${f.code}`);
        }
      });
    }
  });
}
