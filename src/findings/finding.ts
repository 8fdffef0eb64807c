import type { Provenance } from '../model/provenance.js';
import type { ObjectRef } from '../model/k8s/resources.js';

export type Severity = 'error' | 'warning' | 'info';

/** What a report concludes (a rule may propose one: an egress path that works is 'healthy'). */
export type VerdictStatus = 'problem' | 'healthy' | 'inconclusive' | 'informational';

/**
 * How far a verdict can be trusted when it rests on part of the evidence: high
 * when independent sources agree, medium when one source carries it, low when
 * it is an assumption; `missing` names each source the run did not have.
 */
export interface VerdictConfidence {
  level: 'high' | 'medium' | 'low';
  missing: string[];
}

export const SEVERITY_RANK: Record<Severity, number> = { info: 1, warning: 2, error: 3 };

/** One item of proof: what was seen, and the command that shows it (principle 1). */
export interface EvidenceItem extends Provenance {
  /** The lines that matter, verbatim. */
  excerpt: string;
  /** Why this excerpt matters, when it is not obvious. */
  note?: string;
}

export interface Remediation {
  text: string;
  /** A YAML patch for the culprit resource, where one fixes it. */
  patch?: string;
  /** A command that applies or checks the fix. */
  command?: string;
}

export interface Finding {
  code: string;
  severity: Severity;
  title: string;
  /** What happened, in one or two sentences specific to this case. */
  message: string;
  /** The resource the finding blames. */
  target: ObjectRef;
  evidence: EvidenceItem[];
  remediation: Remediation;
  /** Version behaviour the verdict relies on ("Istio >= 1.10 forwards inbound to the pod IP"). */
  assumes?: string[];
  /** How to read the finding's page: `kubectl mesh-doctor docs MDxxxx` (docs/findings/MDxxxx.md in the repository). */
  docs: string;
}
