/** Where the lab's tools live (tools/lab/install.sh puts them there). */
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export const REPO_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
export const ENVOY_VERSION = '1.40.0';

export function labPaths() {
  const cache = process.env.MESH_DOCTOR_LAB_CACHE ?? path.join(REPO_ROOT, '.cache/lab');
  const bin = path.join(REPO_ROOT, 'tools/istio-oracle/bin');
  return {
    envoy: path.join(cache, `envoy-${ENVOY_VERSION}`, 'envoy'),
    istioIptables: path.join(bin, 'istio-iptables'),
    oracle: path.join(bin, 'istio-oracle'),
    pilotAgent: path.join(bin, 'pilot-agent'),
    /** Istio's bootstrap template from the pinned module, copied by install.sh. */
    bootstrapTemplate: path.join(cache, 'envoy_bootstrap.json'),
  };
}

/** Why the lab's tools are missing, or undefined (tools/lab/install.sh installs them). */
export function labToolsMissing(): string | undefined {
  const missing = Object.entries(labPaths()).filter(([, p]) => !fs.existsSync(p)).map(([name]) => name);
  return missing.length ? `the mesh lab's ${missing.join(', ')} ${missing.length > 1 ? 'are' : 'is'} not installed (bash tools/lab/install.sh)` : undefined;
}

