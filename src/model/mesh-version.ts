/**
 * One Istio (and Envoy) version for a run, decided in one place from every
 * source that can tell it (design principle 5, "Versions matter"), in order of
 * trust:
 *   1. the proxy itself: `/server_info` or the config dump's bootstrap node
 *      (metadata ISTIO_VERSION; Envoy's build version);
 *   2. the snapshot's `versions` file or `istioctl version` output;
 *   3. the pod's `istio-proxy` image tag (`proxyv2:1.7.4`, `-asm.N`, `-distroless`);
 *   4. istiod's image tag (`pilot:1.7.4`).
 * It says where the version came from, and the skew between the proxy and the
 * control plane when both are known (istiod's version is what generated the
 * config; the proxy's is what runs it).
 */
import semver from 'semver';
import type { KubeObject, ResourceSet } from './k8s/resources.js';
import { parseIstioVersion, type IstioVersion } from './istio/version-behaviour.js';

export type VersionSource = 'proxy' | 'versions-file' | 'proxy-image' | 'istiod-image' | 'unknown';

export interface MeshVersion {
  /** The Istio version the run assumes (the data plane's, as best known). */
  istio?: IstioVersion;
  envoy?: string;
  source: VersionSource;
  /** Where exactly: `server_info of sleep.foo`, `versions`, `image docker.io/istio/proxyv2:1.7.4 of pod foo/sleep`. */
  from?: string;
  /** istiod's version, from istioctl version's control plane line or istiod's image. */
  controlPlane?: IstioVersion;
  controlPlaneFrom?: string;
  /** Proxy and control plane differ in minor version (or release): what each runs. */
  skew?: string;
  /** One line for the transcript: the version and where it came from, or that it is unknown. */
  text: string;
}

export interface VersionEvidence {
  /** From the proxy: server_info or the bootstrap node (ProxyVersions), with where it was read. */
  proxy?: { istio?: string; envoy?: string; from: string };
  /** The snapshot's `versions` file, or `istioctl version` output. */
  versionsText?: { text: string; from: string };
  /** The pod whose proxy the run is about (its istio-proxy container's image). */
  pod?: KubeObject;
  /** The cluster's objects (istiod's Deployment or Pods). */
  resources?: ResourceSet;
}

const PROXY_CONTAINER = 'istio-proxy';

/**
 * The Istio version in an image reference's tag: `docker.io/istio/proxyv2:1.7.4`,
 * `.../asm/proxyv2:1.9.5-asm.2`, `istio/proxyv2:1.20.8-distroless`. A digest
 * (`@sha256:...`) or a tag without a version (`latest`) tells nothing.
 */
export function imageIstioVersion(image: string | undefined): IstioVersion | undefined {
  // OpenShift Service Mesh (maistra) tags its proxy with its own release (proxyv2-rhel8:2.6.7 is Istio 1.20).
  if (!image || /openshift-service-mesh|maistra/i.test(image)) return undefined;
  const name = image.slice(image.lastIndexOf('/') + 1);
  if (name.includes('@')) return undefined;
  const colon = name.indexOf(':');
  if (colon < 0) return undefined;
  const tag = name.slice(colon + 1);
  if (!/^v?1\.\d+/.test(tag)) return undefined;
  return parseIstioVersion(tag.replace(/^v/, ''));
}

/**
 * Reads free version text: `istioctl version` (`control plane version: 1.7.4`,
 * `data plane version: 1.7.4 (4 proxies)`), mesh-doctor's own `versions` file
 * (`proxy ns/pod: istio 1.20.8, ...`), the oracle's (`proxy ISTIO_VERSION ...: 1.31-dev`),
 * or a line naming Istio. The istioctl client's, kubectl's and mesh-doctor's
 * own versions are not the mesh's and are ignored.
 */
export function parseVersionsText(text: string): { controlPlane?: string; dataPlane?: string } {
  const lines = text.split('\n').filter((l) => !/^\s*#/.test(l));
  const first = (re: RegExp): string | undefined => {
    for (const line of lines) {
      const m = re.exec(line);
      if (m?.[1]) return m[1];
    }
    return undefined;
  };
  const VERSION = String.raw`v?(1\.\d+(?:\.\d+)?(?:-[0-9A-Za-z.]+)?)`;
  const controlPlane = first(new RegExp(String.raw`^\s*control plane version:\s*${VERSION}`, 'i'))
    ?? first(new RegExp(String.raw`^\s*istiod\b[^:]*:\s*${VERSION}`, 'i'));
  const dataPlane = first(new RegExp(String.raw`^\s*data plane version:\s*${VERSION}`, 'i'))
    ?? first(new RegExp(String.raw`^\s*proxy\b.*?(?:ISTIO_VERSION[^:]*:|\bistio)\s*${VERSION}`, 'i'))
    ?? first(new RegExp(String.raw`^(?!\s*(?:client|kubectl|kubernetes|mesh-doctor|istio\.io/)).*?\b(?:istio|anthos service mesh|asm)\b\D*?${VERSION}`, 'i'));
  return { ...(controlPlane ? { controlPlane } : {}), ...(dataPlane ? { dataPlane } : {}) };
}

function containersOf(spec: { containers?: unknown; initContainers?: unknown } | undefined): Array<{ name?: string; image?: string }> {
  const list = (x: unknown) => (Array.isArray(x) ? (x as Array<{ name?: string; image?: string }>) : []);
  // Native sidecars (Istio 1.19+, Kubernetes 1.28+) put istio-proxy among the init containers.
  return [...list(spec?.containers), ...list(spec?.initContainers)];
}

function proxyImage(pod: KubeObject | undefined): string | undefined {
  return containersOf(pod?.spec).find((c) => c.name === PROXY_CONTAINER)?.image;
}

/** istiod's container in a pod spec: the one named `discovery`, or one running a `pilot` image. */
export function istiodContainer(spec: { containers?: unknown; initContainers?: unknown } | undefined): { name?: string; image: string } | undefined {
  const c = containersOf(spec).find((x) => x.name === 'discovery' || /\/pilot[:@]/.test(x.image ?? ''));
  return c?.image ? { ...c, image: c.image } : undefined;
}

/** istiod's image: its Deployment's (or a Pod's) istiod container. */
function istiodImage(resources: ResourceSet | undefined): { image: string; owner: string } | undefined {
  if (!resources) return undefined;
  for (const kind of ['Deployment', 'Pod']) {
    for (const o of resources.of(kind)) {
      const c = istiodContainer(kind === 'Deployment' ? o.spec?.template?.spec : o.spec);
      if (c) return { image: c.image, owner: `${kind} ${o.metadata.namespace ?? ''}/${o.metadata.name}` };
    }
  }
  return undefined;
}

function label(v: IstioVersion): string {
  return v.asm ? `Anthos Service Mesh ${v.raw}` : `Istio ${v.version}`;
}

/** The one decision: which version the run assumes, where it came from, and skew. */
export function resolveMeshVersion(e: VersionEvidence): MeshVersion {
  const fromFile = e.versionsText ? parseVersionsText(e.versionsText.text) : {};
  const image = proxyImage(e.pod);
  const istiod = istiodImage(e.resources);
  const podName = e.pod ? `${e.pod.metadata.namespace ?? ''}/${e.pod.metadata.name}` : '';
  const candidates: Array<[VersionSource, string | undefined, string | undefined]> = [
    ['proxy', e.proxy?.istio, e.proxy?.from],
    ['versions-file', fromFile.dataPlane ?? fromFile.controlPlane, e.versionsText?.from],
    ['proxy-image', image && imageIstioVersion(image) ? image : undefined, image ? `image ${image} of pod ${podName}` : undefined],
    ['istiod-image', istiod && imageIstioVersion(istiod.image) ? istiod.image : undefined, istiod ? `image ${istiod.image} of ${istiod.owner}` : undefined],
  ];
  let chosen: { source: VersionSource; istio: IstioVersion; from?: string } | undefined;
  for (const [source, raw, from] of candidates) {
    const istio = source === 'proxy-image' || source === 'istiod-image' ? imageIstioVersion(raw) : parseIstioVersion(raw);
    if (istio) {
      chosen = { source, istio, ...(from ? { from } : {}) };
      break;
    }
  }
  const controlPlane = fromFile.controlPlane
    ? { version: parseIstioVersion(fromFile.controlPlane), from: e.versionsText?.from }
    : istiod ? { version: imageIstioVersion(istiod.image), from: `image ${istiod.image} of ${istiod.owner}` } : undefined;
  const envoy = e.proxy?.envoy;
  const base = {
    ...(envoy ? { envoy } : {}),
    ...(controlPlane?.version ? { controlPlane: controlPlane.version, ...(controlPlane.from ? { controlPlaneFrom: controlPlane.from } : {}) } : {}),
  };
  if (!chosen) {
    return { ...base, source: 'unknown', text: 'Istio version unknown: no proxy metadata, versions file, istio-proxy image tag or istiod image gave one' };
  }
  const skew = skewBetween(chosen.istio, controlPlane?.version, chosen.source);
  return {
    ...base,
    istio: chosen.istio,
    source: chosen.source,
    ...(chosen.from ? { from: chosen.from } : {}),
    ...(skew ? { skew } : {}),
    text: `${label(chosen.istio)}${envoy ? `, Envoy ${envoy}` : ''} (from ${chosen.from ?? chosen.source})${skew ? `; ${skew}` : ''}`,
  };
}

/** Proxy and istiod one minor release apart or more (Istio supports n-1..n+1; behaviour follows the proxy). */
function skewBetween(dataPlane: IstioVersion, controlPlane: IstioVersion | undefined, source: VersionSource): string | undefined {
  if (!controlPlane || source === 'istiod-image') return undefined;
  const d = semver.parse(dataPlane.version);
  const c = semver.parse(controlPlane.version);
  if (!d || !c || (d.major === c.major && d.minor === c.minor)) return undefined;
  return `skew: the proxy runs ${label(dataPlane)}, the control plane ${label(controlPlane)}`;
}
