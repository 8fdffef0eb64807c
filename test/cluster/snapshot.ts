// Reads a snapshot directory (the `istioctl bug-report` layout described in
// shared/design.md, "The snapshot layout") into the objects and proxy files the
// test cluster serves. Missing files are fine: they mean "not available".

import {existsSync, readdirSync, readFileSync, statSync} from 'node:fs';
import {join} from 'node:path';
import {parseAllDocuments} from 'yaml';
import {kindByObject, type KindInfo} from './registry.js';

export type K8sObject = Record<string, any> & {
  apiVersion?: string;
  kind?: string;
  metadata: {name: string; namespace?: string; labels?: Record<string, string>; [k: string]: any};
};

export interface StoredObject {
  info: KindInfo;
  obj: K8sObject;
}

export interface LoadedSnapshot {
  root: string;
  objects: StoredObject[];
  /** `ns/pod` -> absolute proxy directory */
  proxyDirs: Map<string, string>;
  warnings: string[];
}

/** A bug-report archive unpacks to `bug-report/`; accept either the root or that folder. */
export function resolveRoot(dir: string, depth = 0): string {
  if (existsSync(join(dir, 'cluster')) || existsSync(join(dir, 'proxies'))) return dir;
  const nested = join(dir, 'bug-report');
  if (existsSync(nested)) return resolveRoot(nested, depth + 1);
  // an archive holding one top folder (bug-report-<date>/...)
  const subdirs = readdirSync(dir).filter((f) => statSync(join(dir, f)).isDirectory());
  if (depth < 2 && subdirs.length === 1) {
    const r = resolveRoot(join(dir, subdirs[0]), depth + 1);
    if (r !== join(dir, subdirs[0]) || existsSync(join(r, 'cluster')) || existsSync(join(r, 'proxies'))) return r;
  }
  return dir;
}

function yamlSources(path: string): string[] {
  if (!existsSync(path)) return [];
  const st = statSync(path);
  if (st.isFile()) return [readFileSync(path, 'utf8')];
  return readdirSync(path)
    .filter((f) => /\.(ya?ml|json)$/.test(f))
    .sort()
    .map((f) => readFileSync(join(path, f), 'utf8'));
}

export function parseObjects(text: string, warnings: string[] = []): K8sObject[] {
  const out: K8sObject[] = [];
  const visit = (o: any) => {
    if (!o || typeof o !== 'object') return;
    if (Array.isArray(o.items) && (o.kind === 'List' || /List$/.test(String(o.kind ?? '')))) {
      const itemKind = o.kind === 'List' ? undefined : String(o.kind).replace(/List$/, '');
      for (const item of o.items) {
        if (item && typeof item === 'object' && itemKind && !item.kind) item.kind = itemKind;
        if (item && typeof item === 'object' && !item.apiVersion && o.apiVersion) item.apiVersion = o.apiVersion;
        visit(item);
      }
      return;
    }
    if (o.kind && o.metadata && typeof o.metadata.name === 'string') out.push(o as K8sObject);
  };
  for (const doc of parseAllDocuments(text)) {
    if ('errors' in doc && doc.errors.length > 0) {
      warnings.push(`YAML error: ${doc.errors[0].message}`);
      continue;
    }
    visit(doc.toJS());
  }
  return out;
}

export function loadSnapshot(dir: string): LoadedSnapshot {
  const root = resolveRoot(dir);
  const warnings: string[] = [];
  const objects: StoredObject[] = [];
  for (const rel of ['cluster/k8s-resources', 'cluster/crs']) {
    for (const text of yamlSources(join(root, rel))) {
      for (const obj of parseObjects(text, warnings)) {
        const info = kindByObject(obj.apiVersion, obj.kind);
        if (!info) {
          warnings.push(`ignored ${obj.apiVersion}/${obj.kind} ${obj.metadata.name}: kind not served`);
          continue;
        }
        if (info.namespaced && !obj.metadata.namespace) obj.metadata.namespace = 'default';
        objects.push({info, obj});
      }
    }
  }
  const proxyDirs = new Map<string, string>();
  const proxiesRoot = join(root, 'proxies');
  if (existsSync(proxiesRoot)) {
    for (const ns of readdirSync(proxiesRoot)) {
      const nsDir = join(proxiesRoot, ns);
      if (!statSync(nsDir).isDirectory()) continue;
      for (const pod of readdirSync(nsDir)) {
        const podDir = join(nsDir, pod);
        if (statSync(podDir).isDirectory()) proxyDirs.set(`${ns}/${pod}`, podDir);
      }
    }
  }
  return {root, objects, proxyDirs, warnings};
}

export function readOptional(dir: string | undefined, ...names: string[]): string | undefined {
  if (!dir) return undefined;
  for (const n of names) {
    const p = join(dir, n);
    if (existsSync(p) && statSync(p).isFile()) return readFileSync(p, 'utf8');
  }
  return undefined;
}
