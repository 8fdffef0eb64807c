import { expect } from 'chai';
import type { Finding } from '../../src/findings/finding.js';
import { makeFinding } from '../../src/findings/make.js';
import { runRules, whyNot } from '../../src/rules/engine.js';
import type { EvidenceKind, EvidenceModel, Rule } from '../../src/rules/rule.js';
import { anyOf } from '../../src/rules/rule.js';

/** A toy evidence model: the kinds it holds, and a count a rule reads. */
type Toy = { errors: number };
const model = (holds: EvidenceKind[], errors = 1): EvidenceModel<Toy> => ({ evidence: { errors }, holds: (k) => holds.includes(k) });

const finding = (code: 'MD3004' | 'MD3007'): Finding => makeFinding(code, {
  message: 'toy', target: { kind: 'Pod', namespace: 'ns', name: 'p' },
  evidence: [{ source: 'kubectl logs p -c istio-proxy -n ns', excerpt: 'line' }], remediation: { text: 'fix' },
});

const refused: Rule<Toy> = {
  id: 'md3004-toy', code: 'MD3004', description: 'toy',
  needs: ['client:access-log'],
  check: (e) => (e.errors > 0 ? [finding('MD3004')] : []),
};
const standsDown: Rule<Toy> = {
  id: 'md3007-toy', code: 'MD3007', description: 'toy',
  needs: [anyOf('client:access-log', 'server:envoy-log')],
  check: (_e, { earlier }) => (earlier.some((f) => f.code === 'MD3004') ? [] : [finding('MD3007')]),
};

describe('rule engine', () => {
  it('runs the rules in order and hands each the findings of those before it', () => {
    const run = runRules([refused, standsDown], model(['client:access-log']));
    expect(run.findings.map((f) => f.code)).to.deep.equal(['MD3004']);
    expect(run.outcomes).to.deep.equal([
      { rule: 'md3004-toy', code: 'MD3004', status: 'ran', findings: 1 },
      { rule: 'md3007-toy', code: 'MD3007', status: 'ran', findings: 0 },
    ]);
  });

  it('reports a rule whose declared evidence is absent as skipped, with the reason, and does not call it', () => {
    const run = runRules([refused, standsDown], model(['server:envoy-log']));
    expect(run.outcomes[0]).to.deep.equal({ rule: 'md3004-toy', code: 'MD3004', status: 'skipped', because: 'no client:access-log evidence is available', findings: 0 });
    expect(run.outcomes[1]?.status).to.equal('ran');
    expect(run.findings.map((f) => f.code)).to.deep.equal(['MD3007']);
  });

  it('words the reason from the need, else from the evidence model, else generically', () => {
    const worded: Rule<Toy> = { ...refused, needs: [{ anyOf: ['stats'], because: 'the stats were not collected' }] };
    expect(whyNot(worded, model([]))).to.equal('the stats were not collected');
    expect(whyNot(refused, { ...model([]), absent: (kinds) => `none of ${kinds.join(', ')}` })).to.equal('none of client:access-log');
    expect(whyNot(standsDown, model([]))).to.equal('no client:access-log and no server:envoy-log evidence is available');
  });

  it('checks a rule\'s own precondition after its needs', () => {
    const picky: Rule<Toy> = { ...refused, unmet: (e) => (e.errors > 5 ? 'too many to tell apart' : undefined) };
    expect(whyNot(picky, model(['client:access-log'], 9))).to.equal('too many to tell apart');
    expect(whyNot(picky, model([], 9))).to.equal('no client:access-log evidence is available');
    expect(runRules([picky], model(['client:access-log'], 1)).outcomes[0]?.status).to.equal('ran');
  });

  it('keeps what a rule noted for the transcript on its outcome, and nothing for a rule that noted nothing', () => {
    const noting: Rule<Toy> = { ...refused, check: (e, { note }) => { note(`${e.errors} error(s) seen`); return []; } };
    const run = runRules([noting, standsDown], model(['client:access-log'], 2));
    expect(run.outcomes[0]).to.deep.equal({ rule: 'md3004-toy', code: 'MD3004', status: 'ran', findings: 0, saw: ['2 error(s) seen'] });
    expect(run.outcomes[1]).to.not.have.property('saw');
  });
});
