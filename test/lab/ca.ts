/**
 * The lab's certificate authority: what istiod's CA does for a sidecar, done
 * with the openssl command line (Node can parse X.509 but not issue it). Each
 * workload certificate carries Istio's SPIFFE identity as its URI SAN
 * (spiffe://<trust domain>/ns/<namespace>/sa/<service account>), is valid for
 * both TLS roles like istiod's, and is served to Envoy as the SDS secrets
 * `default` (chain + key) and `ROOTCA` (the root).
 */
import fs from 'node:fs';
import path from 'node:path';
import { execa } from 'execa';

export interface WorkloadCert {
  chain: string;
  key: string;
  root: string;
}

export interface IssueOptions {
  namespace: string;
  serviceAccount: string;
  trustDomain?: string;
  /** Validity, as openssl dates (YYYYMMDDHHMMSSZ); default: now - 1h .. now + 1 day. */
  notBefore?: string;
  notAfter?: string;
  /** Extra DNS SANs (a server certificate for a non-mesh host). */
  dnsNames?: string[];
  /** Subject CN; default none, like istiod's. */
  commonName?: string;
}

function openssl(args: string[], cwd: string): Promise<unknown> {
  return execa('openssl', args, { cwd, stdin: 'ignore' });
}

/** A date as openssl's ca takes it (YYYYMMDDHHMMSSZ). */
export function asn1Time(date: Date): string {
  return `${date.toISOString().replace(/[-:T]/g, '').slice(0, 14)}Z`;
}

export class LabCA {
  private constructor(readonly dir: string, readonly root: string, private readonly rootKey: string) {}

  /** A new root in `dir` (Istio's self-signed CA: O=cluster.local). */
  static async create(dir: string, name = 'root'): Promise<LabCA> {
    fs.mkdirSync(dir, { recursive: true });
    const key = path.join(dir, `${name}-key.pem`);
    const cert = path.join(dir, `${name}-cert.pem`);
    await openssl(['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-keyout', key, '-out', cert,
      '-days', '2', '-subj', `/O=cluster.local/CN=${name}`, '-addext', 'basicConstraints=critical,CA:TRUE',
      '-addext', 'keyUsage=critical,keyCertSign,cRLSign'], dir);
    return new LabCA(dir, cert, key);
  }

  /** A minimal `openssl ca` configuration: this root signs, any subject (Istio's certificates have none). */
  private config(): string {
    const file = path.join(this.dir, 'ca.cnf');
    if (!fs.existsSync(file)) {
      fs.writeFileSync(path.join(this.dir, 'index.txt'), '');
      fs.writeFileSync(path.join(this.dir, 'serial'), '1000\n');
      fs.writeFileSync(file, [
        '[ca]', 'default_ca = lab', '[lab]', `certificate = ${this.root}`, `private_key = ${this.rootKey}`,
        'database = index.txt', 'new_certs_dir = .', 'serial = serial', 'default_md = sha256', 'policy = any',
        'unique_subject = no', 'email_in_dn = no', '[any]', 'commonName = optional', 'organizationName = optional', '',
      ].join('\n'));
    }
    return file;
  }

  /** Issues a workload certificate into `<dir>/<file prefix>-{cert-chain,key}.pem`. */
  async issue(prefix: string, o: IssueOptions): Promise<WorkloadCert> {
    const key = path.join(this.dir, `${prefix}-key.pem`);
    const csr = path.join(this.dir, `${prefix}.csr`);
    const chain = path.join(this.dir, `${prefix}-cert-chain.pem`);
    const ext = path.join(this.dir, `${prefix}.ext`);
    const sans = [`URI:spiffe://${o.trustDomain ?? 'cluster.local'}/ns/${o.namespace}/sa/${o.serviceAccount}`, ...(o.dnsNames ?? []).map((d) => `DNS:${d}`)];
    fs.writeFileSync(ext, [
      `subjectAltName=critical,${sans.join(',')}`,
      'keyUsage=critical,digitalSignature,keyEncipherment',
      'extendedKeyUsage=serverAuth,clientAuth',
      'basicConstraints=critical,CA:FALSE',
    ].join('\n') + '\n');
    await openssl(['req', '-new', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-keyout', key, '-out', csr,
      '-subj', o.commonName ? `/CN=${o.commonName}` : '/'], this.dir);
    // `openssl ca`, not `x509 -req`: OpenSSL 3.0 can set arbitrary validity dates only there
    // (expired and not-yet-valid certificates are part of the lab's scenarios).
    const now = Date.now();
    await openssl(['ca', '-batch', '-config', this.config(), '-in', csr, '-out', chain, '-extfile', ext, '-notext',
      '-startdate', o.notBefore ?? asn1Time(new Date(now - 3600_000)), '-enddate', o.notAfter ?? asn1Time(new Date(now + 86_400_000))], this.dir);
    return { chain, key, root: this.root };
  }
}
