import semver from 'semver';

/**
 * Facts that depend on the Istio version (shared/reference/envoy-istio.md,
 * "Behaviour that changed across Istio versions"). Each answers
 * `{applies, because}`; with an unknown version `applies` is false and
 * `known` is false, so a diagnosis can say which behaviour it assumed.
 */
export interface IstioVersion {
  /** As read: `1.9.5-asm.2`, `1.20.8`, `istio/proxyv2:1.7.3`. */
  raw: string;
  /** major.minor.patch */
  version: string;
  /** Anthos Service Mesh / Cloud Service Mesh build (`-asm.N`). */
  asm: boolean;
}

export interface Behaviour {
  applies: boolean;
  known: boolean;
  because: string;
}

/**
 * Reads an Istio version from the strings the tools print: istioctl version,
 * proxy node metadata ISTIO_VERSION, image tags (`proxyv2:1.9.5-asm.2`).
 * ASM builds carry `-asm.N` (e.g. `1.9.1-asm.1`). Not Envoy's own version
 * (server_info `<sha>/1.17.2/Clean/RELEASE/BoringSSL` is Envoy's).
 */
export function parseIstioVersion(text: string | undefined): IstioVersion | undefined {
  if (typeof text !== 'string') return undefined;
  const match = /(\d+)\.(\d+)(?:\.(\d+))?((?:-[0-9A-Za-z.-]+)?)/.exec(text);
  if (!match) return undefined;
  const [, major, minor, patch, suffix] = match;
  const version = `${Number(major)}.${Number(minor)}.${Number(patch ?? 0)}`;
  if (!semver.valid(version)) return undefined;
  return { raw: text, version, asm: /-asm\b/i.test(suffix ?? '') || /\basm\b/i.test(text) };
}

function label(v: IstioVersion): string {
  return v.asm ? `Anthos Service Mesh ${v.raw}` : `Istio ${v.version}`;
}

function unknown(what: string): Behaviour {
  return { applies: false, known: false, because: `Istio version unknown; ${what}` };
}

function asVersion(v: IstioVersion | string | undefined): IstioVersion | undefined {
  return typeof v === 'string' ? parseIstioVersion(v) : v;
}

/**
 * A Service port 443 with an HTTP-family protocol made every sidecar treat
 * outbound 0.0.0.0:443 as HTTP (#16458, fixed by #28166 in 1.8). Anthos
 * Service Mesh carried the bug through 1.9 (fixed in ASM 1.10, seed 000).
 */
export function httpOn443Breaks(v: IstioVersion | string | undefined): Behaviour {
  const version = asVersion(v);
  if (!version) return unknown('an HTTP port on 443 broke all outbound HTTPS before Istio 1.8 (ASM before 1.10)');
  if (version.asm) {
    const applies = semver.lt(version.version, '1.10.0');
    return { applies, known: true, because: `${label(version)} ${applies ? 'has' : 'does not have'} the bug (ASM fixed it in 1.10)` };
  }
  const applies = semver.lt(version.version, '1.8.0');
  return { applies, known: true, because: `${label(version)} ${applies ? 'has' : 'does not have'} the bug (fixed in Istio 1.8, istio/istio#28166)` };
}

/** From 1.10 inbound traffic goes to the pod IP on eth0 (ORIGINAL_DST, source 127.0.0.6), not 127.0.0.1 (#30226). */
export function inboundForwardsToPodIp(v: IstioVersion | string | undefined): Behaviour {
  const version = asVersion(v);
  if (!version) return unknown('Istio 1.10 and later forward inbound traffic to the pod IP');
  const applies = semver.gte(version.version, '1.10.0');
  return {
    applies,
    known: true,
    because: applies
      ? `${label(version)} forwards inbound traffic to the pod IP from 127.0.0.6 (since 1.10, unless PILOT_ENABLE_INBOUND_PASSTHROUGH=false on releases that still had it)`
      : `${label(version)} forwards inbound traffic to 127.0.0.1 (before 1.10)`,
  };
}

/** Auto mTLS (`enableAutoMtls`) is on by default since 1.5: a DestinationRule without `tls` still gets ISTIO_MUTUAL. */
export function autoMtlsOnByDefault(v: IstioVersion | string | undefined): Behaviour {
  const version = asVersion(v);
  if (!version) return unknown('auto mTLS is on by default since Istio 1.5');
  const applies = semver.gte(version.version, '1.5.0');
  return {
    applies,
    known: true,
    because: applies
      ? `${label(version)} turns auto mTLS on by default (since 1.5): a DestinationRule without tls still sends ISTIO_MUTUAL to sidecars`
      : `${label(version)} predates auto mTLS by default (1.5): a DestinationRule without tls sends plaintext`,
  };
}

/** IST0143 (LocalhostListener, `istioctl x precheck`) exists from 1.10 and was removed in 1.21 (#48449). */
export function ist0143Available(v: IstioVersion | string | undefined): Behaviour {
  const version = asVersion(v);
  if (!version) return unknown('istioctl precheck reported IST0143 from 1.10 until 1.21');
  const applies = semver.gte(version.version, '1.10.0') && semver.lt(version.version, '1.21.0');
  return {
    applies,
    known: true,
    because: applies
      ? `${label(version)} istioctl x precheck reports apps listening on localhost (IST0143)`
      : `${label(version)} has no IST0143 (${semver.lt(version.version, '1.10.0') ? 'added in 1.10' : 'removed in 1.21'})`,
  };
}

/**
 * The networking.istio.io apiVersion a fix's YAML should carry, one the cluster
 * serves: v1 from Istio 1.22 (its release notes: the networking APIs promoted to v1), v1beta1 from 1.5,
 * v1alpha3 before. Unknown: v1beta1, which every release since 1.5 serves.
 */
export function networkingApiVersion(v: IstioVersion | string | undefined): string {
  const version = asVersion(v);
  if (!version) return 'networking.istio.io/v1beta1';
  if (semver.gte(version.version, '1.22.0')) return 'networking.istio.io/v1';
  return semver.gte(version.version, '1.5.0') ? 'networking.istio.io/v1beta1' : 'networking.istio.io/v1alpha3';
}

/**
 * The outlierDetection field that counts consecutive errors: consecutive5xxErrors
 * from Istio 1.5 (which deprecated consecutiveErrors, istio/api OutlierDetection),
 * consecutiveErrors before it. Unknown: the current field.
 */
export function outlierErrorsField(v: IstioVersion | string | undefined): 'consecutive5xxErrors' | 'consecutiveErrors' {
  const version = asVersion(v);
  return version && semver.lt(version.version, '1.5.0') ? 'consecutiveErrors' : 'consecutive5xxErrors';
}
