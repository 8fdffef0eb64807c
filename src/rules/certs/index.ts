/** The certificate rules, in the order they run (docs/findings/MD5001.md …). */
import type { CertsRule } from './evidence.js';
import { identityMismatch } from './identity.js';
import { rootMismatch } from './root-mismatch.js';
import { certificateExpiring, certificateValidity } from './validity.js';

export const CERT_RULES: readonly CertsRule[] = [certificateValidity, certificateExpiring, rootMismatch, identityMismatch];
export { certsEvidence, proxyCertEvidence, type CertsEvidence, type ProxyCertEvidence } from './evidence.js';
