/**
 * Where in an ALLOW policy a source field is written, as the exact path a
 * fix edits: `spec.rules[0].from[0].source.principals[1]`.
 */
import type { AuthorizationPolicyView, AuthorizationSource } from '../../model/istio/authorization-policy.js';

export interface SourceField {
  policy: AuthorizationPolicyView;
  rule: number;
  from: number;
  field: keyof AuthorizationSource;
  /** The index within the list, when one value is meant. */
  index?: number;
  value?: string;
  path: string;
}

export function sourceFields(policies: readonly AuthorizationPolicyView[], field: keyof AuthorizationSource, which: (value: string) => boolean = () => true): SourceField[] {
  const out: SourceField[] = [];
  for (const policy of policies.filter((p) => p.action === 'ALLOW')) {
    for (const rule of policy.rules) {
      rule.from.forEach((source, from) => {
        source[field].forEach((value, index) => {
          if (which(value)) out.push({ policy, rule: rule.index, from, field, index, value, path: `spec.rules[${rule.index}].from[${from}].source.${field}[${index}]` });
        });
      });
    }
  }
  return out;
}
