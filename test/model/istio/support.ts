import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { expect } from 'chai';
import { parseKubeObjects, ResourceSet } from '../../../src/model/k8s/resources.js';
import { DEFAULT_MESH_CONFIG, type MeshConfigView } from '../../../src/model/istio/mesh-config.js';
import { meshEvidence, STATIC_RULES } from '../../../src/rules/mesh/index.js';
import { ruleTester as genericRuleTester } from '../../support/rule-tester.js';
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
 * ESLint RuleTester for the mesh rules (test/support/rule-tester.ts): `valid`
 * cases produce no finding from the rule, `invalid` cases produce exactly the
 * listed (code, target) pairs. Targets are written `Kind namespace/name`.
 */
export function ruleTester(ruleId: string, cases: { valid: ValidCase[]; invalid: InvalidCase[] }): void {
  const rule = STATIC_RULES.find((r) => r.id === ruleId);
  if (!rule) throw new Error(`no rule ${ruleId}`);
  const input = (c: ValidCase) => ({ name: c.name, input: c });
  genericRuleTester(rule, {
    model: (c: ValidCase) => ({ model: meshEvidence({ resources: resources(c.yaml), mesh: c.mesh ?? DEFAULT_MESH_CONFIG, ...(c.istioVersion ? { istioVersion: c.istioVersion } : {}) }) }),
    sourcePattern: /^(kubectl|istioctl) /,
  }, {
    valid: cases.valid.map(input),
    invalid: cases.invalid.map((c) => ({ ...input(c), expect: c.expect })),
  });
}
