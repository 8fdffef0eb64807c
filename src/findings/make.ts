import { catalogEntry, docsCommand, type FindingCode } from './catalog.js';
import type { Finding } from './finding.js';

/** Builds a finding from its catalog entry, so title, severity and docs live in one place. */
export function makeFinding(code: FindingCode, details: Omit<Finding, 'code' | 'severity' | 'title' | 'docs'> & { severity?: Finding['severity'] }): Finding {
  const entry = catalogEntry(code);
  return {
    code,
    severity: details.severity ?? entry.severity,
    title: entry.title,
    message: details.message,
    target: details.target,
    evidence: details.evidence,
    remediation: details.remediation,
    ...(details.assumes?.length ? { assumes: details.assumes } : {}),
    docs: docsCommand(code),
  };
}
