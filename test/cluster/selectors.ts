// Label and field selectors as the API server parses them
// (k8s.io/apimachinery/pkg/labels, pkg/fields): equality, inequality, set-based.

import type {K8sObject} from './snapshot.js';

type Req = (labels: Record<string, string>) => boolean;

function splitTopLevel(s: string): string[] {
  const out: string[] = [];
  let depth = 0;
  let cur = '';
  for (const ch of s) {
    if (ch === '(') depth++;
    if (ch === ')') depth--;
    if (ch === ',' && depth === 0) {
      out.push(cur);
      cur = '';
    } else cur += ch;
  }
  if (cur.trim()) out.push(cur);
  return out.map((x) => x.trim()).filter(Boolean);
}

export function parseLabelSelector(sel: string): Req {
  const reqs: Req[] = [];
  for (const term of splitTopLevel(sel)) {
    let m: RegExpExecArray | null;
    if ((m = /^([\w./-]+)\s+(in|notin)\s+\((.*)\)$/.exec(term))) {
      const [, key, op, vals] = m;
      const set = new Set(vals.split(',').map((v) => v.trim()));
      reqs.push(op === 'in' ? (l) => key in l && set.has(l[key]) : (l) => !(key in l) || !set.has(l[key]));
    } else if ((m = /^([\w./-]+)\s*(!=|==|=)\s*([\w./-]*)$/.exec(term))) {
      const [, key, op, val] = m;
      reqs.push(op === '!=' ? (l) => l[key] !== val : (l) => key in l && l[key] === val);
    } else if ((m = /^!([\w./-]+)$/.exec(term))) {
      const key = m[1];
      reqs.push((l) => !(key in l));
    } else if ((m = /^([\w./-]+)$/.exec(term))) {
      const key = m[1];
      reqs.push((l) => key in l);
    } else {
      throw new Error(`unable to parse requirement: ${term}`);
    }
  }
  return (l) => reqs.every((r) => r(l));
}

function fieldValue(o: K8sObject, path: string): string | undefined {
  let cur: any = o;
  for (const p of path.split('.')) {
    if (cur === undefined || cur === null) return undefined;
    cur = cur[p];
  }
  return cur === undefined || cur === null ? undefined : String(cur);
}

const SUPPORTED_FIELDS = new Set(['metadata.name', 'metadata.namespace', 'status.phase', 'spec.nodeName', 'spec.restartPolicy', 'spec.serviceAccountName', 'status.podIP', 'spec.type', 'involvedObject.name', 'involvedObject.namespace', 'involvedObject.kind']);

export function parseFieldSelector(sel: string, kind: string): (o: K8sObject) => boolean {
  const reqs: Array<(o: K8sObject) => boolean> = [];
  for (const term of splitTopLevel(sel)) {
    const m = /^([\w.]+)\s*(!=|==|=)\s*(.*)$/.exec(term);
    if (!m) throw new Error(`invalid selector: '${sel}'; can't understand '${term}'`);
    const [, field, op, val] = m;
    if (!SUPPORTED_FIELDS.has(field)) {
      throw new Error(`field label not supported: ${field}`);
    }
    reqs.push((o) => {
      const v = fieldValue(o, field) ?? (field === 'spec.nodeName' ? '' : undefined);
      return op === '!=' ? v !== val : v === val;
    });
  }
  void kind;
  return (o) => reqs.every((r) => r(o));
}
