import { execFileSync } from 'node:child_process';
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { LabCA, type IssueOptions } from '../lab/ca.js';
import { REPO_ROOT } from './cli.js';

/** The real capture of the mesh lab's two sidecars (test/fixtures/certs/PROVENANCE.md). */
export const LAB_MTLS = path.join(REPO_ROOT, 'test/fixtures/certs/lab-mtls');
export const LAB_CAPTURED_AT = new Date('2026-12-05T10:01:57.111Z');
export const HTTPBIN = 'proxies/foo/httpbin-94fdb8c79-h9zrq';
export const SLEEP = 'proxies/foo/sleep-5b597748b4-77kj5';

export function opensslAvailable(): boolean {
  try {
    execFileSync('openssl', ['version'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

/**
 * The reference for the validity dates of certificates a test issues (the
 * test file's start). They are judged later, at the moment they are used:
 * the lab CA's roots are valid only from the moment they are made, so they
 * can be judged neither at the recorded capture's instant nor before they exist.
 */
export const NOW = new Date();

/** openssl's validity dates, relative to NOW. */
export function asn1(offsetHours: number): string {
  return `${new Date(NOW.getTime() + offsetHours * 3600_000).toISOString().replace(/[-:T]/g, '').slice(0, 14)}Z`;
}

export interface Issued { chain: string; root: string }

const authorities = new Map<string, Promise<LabCA>>();
let issued = 0;

/** A certificate from the lab CA named caName in dir (created on first use: one root per name), as PEM text. */
export async function issue(dir: string, caName: string, options: IssueOptions): Promise<Issued> {
  const key = path.join(dir, caName);
  if (!authorities.has(key)) authorities.set(key, LabCA.create(key, caName));
  const ca = await authorities.get(key)!;
  const cert = await ca.issue(`workload-${++issued}`, options);
  return { chain: readFileSync(cert.chain, 'utf8'), root: readFileSync(cert.root, 'utf8') };
}

/**
 * A copy of the lab capture where one proxy's SDS secrets (`default` chain,
 * `ROOTCA` root) are replaced in its config dump: the documented way the
 * broken variants are made. Returns the folder; the caller removes `dir`.
 */
export function variantSnapshot(dir: string, secretsByProxy: Record<string, { chain?: string; root?: string }>): string {
  const out = path.join(dir, `snapshot-${++issued}`);
  cpSync(LAB_MTLS, out, { recursive: true });
  // Captured now: after the replacement certificates (and their roots) were made.
  const meta = JSON.parse(readFileSync(path.join(out, 'meta.json'), 'utf8'));
  writeFileSync(path.join(out, 'meta.json'), JSON.stringify({ ...meta, capturedAt: new Date().toISOString() }, null, 2));
  for (const [proxy, secrets] of Object.entries(secretsByProxy)) replaceSecrets(path.join(out, proxy), secrets);
  return out;
}

function replaceSecrets(folder: string, secrets: { chain?: string; root?: string }): void {
  const file = path.join(folder, 'config_dump');
  const dump = JSON.parse(readFileSync(file, 'utf8'));
  const section = dump.configs.find((c: { '@type': string }) => c['@type'].endsWith('SecretsConfigDump'));
  for (const entry of section.dynamic_active_secrets) {
    const b64 = (pem: string) => Buffer.from(pem).toString('base64');
    if (entry.name === 'default' && secrets.chain) entry.secret.tls_certificate.certificate_chain.inline_bytes = b64(secrets.chain);
    if (entry.name === 'ROOTCA' && secrets.root) entry.secret.validation_context.trusted_ca.inline_bytes = b64(secrets.root);
  }
  writeFileSync(file, JSON.stringify(dump));
}

export function tempDir(prefix: string): { dir: string; remove: () => void } {
  const dir = mkdtempSync(path.join(tmpdir(), prefix));
  return { dir, remove: () => rmSync(dir, { recursive: true, force: true }) };
}

/** Certificates of the mesh's one root (the CA `mesh` in dir), valid from an hour ago for a day unless `extra` says otherwise. */
export function meshIssuer(dir: () => string): (serviceAccount: string, extra?: Partial<IssueOptions>) => Promise<Issued> {
  return (serviceAccount, extra = {}) => issue(dir(), 'mesh', { namespace: 'foo', serviceAccount, notBefore: asn1(-1), notAfter: asn1(24), ...extra });
}

/** Skips the suite, saying why, where openssl (which issues the variants' certificates) is missing. */
export function requireOpenssl(context: Mocha.Context): void {
  if (opensslAvailable()) return;
  console.log('    (skipped: openssl is not on PATH; the variants issue real certificates with it)');
  context.skip();
}
