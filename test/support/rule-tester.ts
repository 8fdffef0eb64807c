import { expect } from 'chai';
import { docsCommand } from '../../src/findings/catalog.js';
import type { Finding } from '../../src/findings/finding.js';
import { runRules } from '../../src/rules/engine.js';
import type { EvidenceModel, Rule } from '../../src/rules/rule.js';

/** Where a finding points, written `Kind namespace/name`. */
export function targetOf(f: Finding): string {
  return `${f.target.kind} ${f.target.namespace}/${f.target.name}`;
}

export interface ValidRuleCase<I> {
  name: string;
  input: I;
}

export interface InvalidRuleCase<I> extends ValidRuleCase<I> {
  /** Exactly these (code, target) pairs, in order; severity compared when given. */
  expect: Array<{ code: string; target: string; severity?: string }>;
}

export interface SkippedRuleCase<I> extends ValidRuleCase<I> {
  /** The reason the engine reports. */
  because: string | RegExp;
}

export interface RuleTesterOptions<I, E, S> {
  /** Builds the evidence model (and what the diagnosis derives once for all rules) from a case's input. */
  model(input: I): { model: EvidenceModel<E>; shared?: S };
  /** How every piece of evidence's `source` must look (a command a person could run). */
  sourcePattern?: RegExp;
}

/**
 * ESLint's RuleTester for this contract: `valid` cases run the rule and
 * produce no finding, `invalid` cases produce exactly the listed (code,
 * target) pairs as finished findings (evidence with a source and an excerpt,
 * a remediation, the docs page), `skipped` cases are reported skipped with
 * the reason. Every case goes through the one engine.
 */
export function ruleTester<I, E, S = unknown>(
  rule: Rule<E, S>,
  options: RuleTesterOptions<I, E, S>,
  cases: { valid?: ValidRuleCase<I>[]; invalid?: InvalidRuleCase<I>[]; skipped?: SkippedRuleCase<I>[] },
): void {
  const run = (input: I) => {
    const { model, shared } = options.model(input);
    return runRules([rule], model, shared);
  };
  describe(rule.id, () => {
    for (const c of cases.valid ?? []) {
      it(`valid: ${c.name}`, () => {
        const { findings, outcomes } = run(c.input);
        expect(outcomes[0]?.status, outcomes[0]?.because).to.equal('ran');
        expect(findings.map((f) => `${f.code} ${targetOf(f)}`)).to.deep.equal([]);
      });
    }
    for (const c of cases.invalid ?? []) {
      it(`invalid: ${c.name}`, () => {
        const { findings } = run(c.input);
        const withSeverity = c.expect.some((e) => e.severity);
        const got = findings.map((f) => ({ code: f.code, target: targetOf(f), ...(withSeverity ? { severity: f.severity } : {}) }));
        expect(got).to.deep.equal(c.expect);
        for (const f of findings) expectFinished(f, rule.code, options.sourcePattern);
      });
    }
    for (const c of cases.skipped ?? []) {
      it(`skipped: ${c.name}`, () => {
        const { findings, outcomes } = run(c.input);
        expect(findings).to.deep.equal([]);
        expect(outcomes[0]?.status).to.equal('skipped');
        if (typeof c.because === 'string') expect(outcomes[0]?.because).to.equal(c.because);
        else expect(outcomes[0]?.because).to.match(c.because);
      });
    }
  });
}

/** A finding as the contract promises it: its own code, evidence that cites where it came from, a fix, its page. */
export function expectFinished(f: Finding, code: string, sourcePattern = /\S/): void {
  expect(f.code).to.equal(code);
  expect(f.evidence.length, 'evidence').to.be.greaterThan(0);
  for (const e of f.evidence) {
    expect(e.source, 'evidence source').to.match(sourcePattern);
    expect(e.excerpt, 'evidence excerpt').to.not.equal('');
  }
  expect(f.remediation.text).to.not.equal('');
  expect(f.docs).to.equal(docsCommand(f.code));
}
