import { execa } from 'execa';
import { MeshDoctorCommand, type RunContext } from '../base-command.js';
import type { PodView } from '../model/k8s/pods.js';
import { plainTable } from '../render/table.js';
import type { Painter } from '../render/style.js';
import { buildReport, type Report } from '../report/report.js';

interface VersionData {
  meshDoctor: string;
  /** `kubectl version --client`'s gitVersion, or why it is not known. */
  kubectlClient: string;
  /** istiod pods and the version their image carries; empty when none was found. */
  controlPlane: Array<{ pod: string; image: string; version: string }>;
  /** Why the control plane could not be read (no cluster, RBAC...), when it could not. */
  controlPlaneUnknown?: string;
}

/** The tag of an image reference (`docker.io/istio/pilot:1.24.2-distroless` -> `1.24.2-distroless`). */
function imageTag(image: string): string {
  const name = image.split('@')[0];
  const slash = name.lastIndexOf('/');
  const colon = name.lastIndexOf(':');
  return colon > slash ? name.slice(colon + 1) : 'latest';
}

async function kubectlClientVersion(): Promise<string> {
  const result = await execa('kubectl', ['version', '--client', '-o', 'json'], { reject: false, timeout: 10_000 }).catch(() => undefined);
  if (!result || result.exitCode !== 0) return 'not found (kubectl is not on PATH or failed)';
  try {
    return JSON.parse(result.stdout).clientVersion.gitVersion as string;
  } catch {
    return 'unknown (kubectl version printed no JSON)';
  }
}

/** istiod pods, as `kubectl get pods -A -l app=istiod` lists them (revisions are `istiod-<rev>` pods with the same label). */
function istiodPods(pods: PodView[]): VersionData['controlPlane'] {
  return pods
    .filter((p) => p.labels.app === 'istiod' || /^istiod(-|$)/.test(p.name))
    .map((p) => {
      const container = (p.object.spec?.containers ?? []).find((c: { name: string }) => c.name === 'discovery') ?? p.object.spec?.containers?.[0];
      const image: string = container?.image ?? 'unknown';
      return { pod: `${p.name}.${p.namespace}`, image, version: imageTag(image) };
    });
}

export default class Version extends MeshDoctorCommand {
  static summary = 'Versions: mesh-doctor, the kubectl client, and the Istio control plane when a cluster (or --from snapshot) is there';
  static examples = ['<%= config.bin %> version', '<%= config.bin %> version -o json', '<%= config.bin %> version --from test/scenarios/seed004-dr-tls-disable/snapshot'];

  protected async diagnose({ source }: RunContext): Promise<Report<VersionData>> {
    const data: VersionData = { meshDoctor: this.config.version, kubectlClient: await kubectlClientVersion(), controlPlane: [] };
    let label = 'no cluster';
    try {
      const opened = await source();
      label = opened.label;
      data.controlPlane = istiodPods(await opened.pods());
      if (data.controlPlane.length === 0) data.controlPlaneUnknown = 'no istiod pod found (label app=istiod)';
    } catch (error) {
      data.controlPlaneUnknown = (error as Error).message.split('\n')[0];
    }
    const istio = [...new Set(data.controlPlane.map((c) => c.version))];
    return buildReport({
      command: 'version', source: { mode: 'none', label },
      verdict: { status: 'informational', summary: `mesh-doctor ${data.meshDoctor}; kubectl ${data.kubectlClient}; Istio control plane ${istio.join(', ') || data.controlPlaneUnknown}` },
      data,
    });
  }

  protected override renderData(report: Report<VersionData>): string | undefined {
    const d = report.data!;
    const rows = [['mesh-doctor', d.meshDoctor], ['kubectl client', d.kubectlClient]];
    for (const c of d.controlPlane) rows.push([`istiod ${c.pod}`, `${c.version} (${c.image})`]);
    if (d.controlPlaneUnknown) rows.push(['Istio control plane', d.controlPlaneUnknown]);
    return plainTable(['COMPONENT', 'VERSION'], rows);
  }

  protected override renderConclusion(_report: Report, _paint: Painter): string {
    return '';
  }
}
