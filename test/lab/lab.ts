/**
 * The mesh lab driver: pods as network namespaces on one bridge, real Envoy
 * 1.40 sidecars (uid/gid 1337, pilot-agent's flags) running the config Istio's
 * own generator (the oracle) produced for the scenario, each pod's nat table
 * written by Istio's own istio-iptables (REDIRECT mode, as istio-init runs
 * it), workload certificates from a local CA, apps as a non-root uid.
 *
 *   const lab = await Lab.start(scenario);    // see scenarios.ts
 *   await lab.exec(lab.pod('foo', 'sleep'), 'sleep', ['curl', '-s', 'http://httpbin:8000/headers']);
 *   await lab.admin(pod, 'POST', 'logging');
 *   await lab.stop();
 *
 * docs/lab.md describes the topology and what is real.
 */
import { spawn } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { LabCA } from './ca.js';
import { credentialFiles, envoyArgs, labEnvoyFiles, sdsFiles } from './envoy-config.js';
import { Footprint, LAB_PREFIX, run, sweepStaleRuns } from './host.js';
import { generateScenario, type GeneratedScenario } from './oracle.js';
import { labPaths } from './paths.js';
import type { AppSpec, LabScenario } from './scenarios.js';
import { parseLoggingText } from '../cluster/envoy-admin.js';
import type { LabBackend } from '../cluster/server.js';

const here = path.dirname(fileURLToPath(import.meta.url));

/** Istio's proxy uid/gid (istio-iptables -u/-g 1337), and the uid the lab's app containers run as. */
export const PROXY_UID = 1337;
export const APP_UID = 1000;

export interface LabContainer {
  name: string;
  uid: number;
}

export interface LabPod {
  namespace: string;
  name: string;
  ip: string;
  netns: string;
  serviceAccount: string;
  labels: Record<string, string>;
  containers: LabContainer[];
  /** Present for pods with a sidecar. */
  envoy?: { configDir: string; log: string; pid?: number };
  /** Per container: its output file (Envoy's for istio-proxy). */
  logs: Record<string, string>;
}

export interface ExecResult {
  stdout: string;
  stderr: string;
  exitCode: number;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export class Lab {
  readonly pods: LabPod[] = [];
  private envoyBinary = '';
  private constructor(readonly scenario: LabScenario, readonly id: string, readonly dir: string, private readonly footprint: Footprint, readonly generated: GeneratedScenario) {}

  /** Brings a scenario up; on any failure, removes what it had created and rethrows. */
  static async start(scenario: LabScenario): Promise<Lab> {
    await sweepStaleRuns();
    const id = crypto.randomBytes(2).toString('hex');
    const footprint = new Footprint(id);
    const dir = footprint.record('dirs', fs.mkdtempSync(path.join(os.tmpdir(), `mesh-doctor-lab-${id}-`)));
    fs.chmodSync(dir, 0o755);
    try {
      const generated = await generateScenario(scenario.oracle, path.join(dir, 'oracle'));
      const lab = new Lab(scenario, id, dir, footprint, generated);
      await lab.bringUp();
      return lab;
    } catch (error) {
      await footprint.remove();
      throw error;
    }
  }

  /** The lab CA's root certificate (readable by every pod: `curl --cacert`). */
  get caRoot(): string {
    return path.join(this.dir, 'ca', 'root-cert.pem');
  }

  pod(namespace: string, name: string): LabPod {
    const found = this.pods.find((p) => p.namespace === namespace && (p.name === name || p.labels.app === name));
    if (!found) throw new Error(`lab ${this.scenario.name}: no pod ${name}.${namespace}`);
    return found;
  }

  private async bringUp(): Promise<void> {
    const bridge = this.footprint.record('links', `${LAB_PREFIX}${this.id}br`);
    await run(['ip', 'link', 'add', bridge, 'type', 'bridge']);
    await run(['ip', 'link', 'set', bridge, 'up']);
    this.installBinaries();
    const ca = await LabCA.create(path.join(this.dir, 'ca'));
    const specs = [...this.generated.proxies.map((p) => ({ ...p, sidecar: true })), ...(this.scenario.plainPods ?? []).map((p) => ({ ...p, sidecar: false }))];
    for (const [index, spec] of specs.entries()) {
      const pod = await this.createPod(index, spec, bridge);
      if (spec.sidecar) await this.startSidecar(pod, ca, 'kind' in spec && spec.kind === 'gateway');
      for (const app of this.appsOf(pod)) await this.startApp(pod, app, ca);
      this.pods.push(pod);
    }
    await Promise.all(this.pods.flatMap((pod) => this.appsOf(pod).map((app) => this.waitListening(pod, app.port))));
  }

  private appsOf(pod: LabPod): AppSpec[] {
    return this.scenario.apps[`${pod.namespace}/${pod.labels.app ?? pod.name}`] ?? [];
  }

  private async createPod(index: number, spec: { namespace: string; name: string; ip: string; serviceAccount?: string; labels?: Record<string, string> }, bridge: string): Promise<LabPod> {
    const netns = this.footprint.record('netns', `${LAB_PREFIX}-${this.id}-${index}`);
    const hostSide = this.footprint.record('links', `${LAB_PREFIX}${this.id}v${index}`);
    fs.mkdirSync(path.join('/etc/netns', netns), { recursive: true });
    fs.writeFileSync(path.join('/etc/netns', netns, 'hosts'), this.hostsFile(spec));
    fs.writeFileSync(path.join('/etc/netns', netns, 'resolv.conf'), 'options timeout:1 attempts:1\n');
    await run(['ip', 'netns', 'add', netns]);
    await run(['ip', 'link', 'add', hostSide, 'type', 'veth', 'peer', 'name', 'eth0', 'netns', netns]);
    await run(['ip', 'link', 'set', hostSide, 'master', bridge, 'up']);
    for (const args of [['link', 'set', 'lo', 'up'], ['addr', 'add', `${spec.ip}/32`, 'dev', 'eth0'], ['link', 'set', 'eth0', 'up'], ['route', 'add', 'default', 'dev', 'eth0']]) {
      await run(['ip', '-n', netns, ...args]);
    }
    // Container runtimes (Docker, containerd) let a pod's non-root processes bind ports below 1024.
    await run(['ip', 'netns', 'exec', netns, 'sysctl', '-qw', 'net.ipv4.ip_unprivileged_port_start=0']);
    const podDir = path.join(this.dir, 'pods', `${spec.namespace}.${spec.name}`);
    fs.mkdirSync(podDir, { recursive: true, mode: 0o755 });
    return { namespace: spec.namespace, name: spec.name, ip: spec.ip, netns, serviceAccount: spec.serviceAccount ?? 'default', labels: spec.labels ?? {}, containers: [], logs: {} };
  }

  /** /etc/hosts of every pod: Services by their cluster IPs (all the names kube-dns answers), plus the scenario's own names. */
  private hostsFile(spec: { name: string; ip: string }): string {
    const lines = ['127.0.0.1 localhost', `${spec.ip} ${spec.name}`];
    for (const svc of this.generated.services) {
      if (!svc.clusterIP || svc.clusterIP === 'None') continue;
      lines.push(`${svc.clusterIP} ${svc.name}.${svc.namespace}.svc.cluster.local ${svc.name}.${svc.namespace}.svc ${svc.name}.${svc.namespace} ${svc.name}`);
    }
    for (const [host, ip] of Object.entries(this.scenario.hosts ?? {})) lines.push(`${ip} ${host}`);
    return `${lines.join('\n')}\n`;
  }

  private async startSidecar(pod: LabPod, ca: LabCA, gateway = false): Promise<void> {
    const configDir = path.join(this.dir, 'pods', `${pod.namespace}.${pod.name}`, 'envoy');
    const dump = JSON.parse(fs.readFileSync(this.generated.dumpOf(pod.namespace, pod.name), 'utf8'));
    const { files, secrets } = labEnvoyFiles(dump, configDir, this.scenario.shapes);
    const { ca: otherRoot, ...override } = this.scenario.certs?.[`${pod.namespace}/${pod.labels.app}`] ?? {};
    const issuer = otherRoot ? await LabCA.create(path.join(this.dir, `ca-${otherRoot}`), otherRoot) : ca;
    const cert = await issuer.issue(`${pod.namespace}.${pod.name}`, { namespace: pod.namespace, serviceAccount: pod.serviceAccount, ...override });
    for (const [file, json] of [...files, ...sdsFiles(cert), ...credentialFiles(secrets, pod.namespace, this.generated.secrets)]) {
      fs.mkdirSync(path.dirname(path.join(configDir, file)), { recursive: true });
      fs.writeFileSync(path.join(configDir, file), JSON.stringify(json, null, 1));
    }
    fs.chownSync(cert.key, PROXY_UID, PROXY_UID);
    fs.chmodSync(cert.key, 0o600);
    // A gateway has no istio-init: its Envoy listens on the Gateway's ports itself, nothing is redirected.
    if (!gateway) {
      // istio-init's invocation (pilot/pkg/... sidecar injection template, REDIRECT mode).
      const init = await run(['ip', 'netns', 'exec', pod.netns, labPaths().istioIptables, '-p', '15001', '-z', '15006', '-u', String(PROXY_UID), '-m', 'REDIRECT',
        '-i', '*', '-x', '', '-b', '*', '-d', '15090,15021,15020']);
      // What istio-init's container log holds: the tool's own output (the rules it applied).
      const initLog = path.join(path.dirname(configDir), 'istio-init.log');
      fs.writeFileSync(initLog, `${init.stdout}${init.stderr ? `\n${init.stderr}` : ''}\n`);
      pod.logs['istio-init'] = initLog;
    }
    const log = path.join(path.dirname(configDir), 'istio-proxy.log');
    pod.envoy = { configDir, log };
    pod.logs['istio-proxy'] = log;
    pod.containers.push({ name: 'istio-proxy', uid: PROXY_UID });
    await this.startEnvoy(pod);
  }

  /**
   * The run's bin/: pilot-agent (the lab's `pilot-agent request`) always, and Envoy when
   * the cached binary is not reachable by uid 1337 (a checkout under a private home).
   */
  private installBinaries(): void {
    const bin = path.join(this.dir, 'bin');
    fs.mkdirSync(bin, { recursive: true, mode: 0o755 });
    fs.copyFileSync(labPaths().pilotAgent, path.join(bin, 'pilot-agent'));
    fs.chmodSync(path.join(bin, 'pilot-agent'), 0o755);
    let reachable = true;
    for (let dir = path.dirname(labPaths().envoy); dir !== '/'; dir = path.dirname(dir)) {
      if ((fs.statSync(dir).mode & 0o001) === 0) reachable = false;
    }
    this.envoyBinary = reachable ? labPaths().envoy : path.join(bin, 'envoy');
    if (!reachable) fs.copyFileSync(labPaths().envoy, this.envoyBinary);
    fs.chmodSync(this.envoyBinary, 0o755);
  }

  /** Starts (or restarts) the pod's Envoy and waits for its admin API; a restart appends to the same log, as a container restart's logs continue. */
  async startEnvoy(pod: LabPod): Promise<void> {
    const envoy = pod.envoy!;
    const child = this.spawnIn(pod, PROXY_UID, [this.envoyBinary, ...envoyArgs(path.join(envoy.configDir, 'bootstrap.json'))], envoy.log);
    envoy.pid = child.pid;
    for (let i = 0; i < 100; i++) {
      const ready = await this.admin(pod, 'GET', 'ready').catch(() => undefined);
      if (ready && ready.status > 0) return;
      if (child.exitCode !== null) break;
      await sleep(100);
    }
    throw new Error(`lab: Envoy in ${pod.name}.${pod.namespace} did not come up; its log: ${fs.readFileSync(envoy.log, 'utf8').slice(-2000)}`);
  }

  /** Kills the pod's Envoy (as a crashing container would be) and starts it again. */
  async restartEnvoy(pod: LabPod): Promise<void> {
    if (pod.envoy?.pid) {
      process.kill(pod.envoy.pid, 'SIGKILL');
      await sleep(200);
    }
    await this.startEnvoy(pod);
  }

  private async startApp(pod: LabPod, app: AppSpec, ca: LabCA): Promise<void> {
    const script = path.join(this.dir, 'echo.mjs');
    if (!fs.existsSync(script)) fs.copyFileSync(path.join(here, 'apps/echo.mjs'), script);
    const args = [process.execPath, script, '--port', String(app.port), '--bind', app.bind ?? '0.0.0.0'];
    if (app.keepaliveMs) args.push('--keepalive-ms', String(app.keepaliveMs));
    if (app.status) args.push('--status', String(app.status));
    if (app.tls) {
      const cert = await ca.issue(`${pod.namespace}.${pod.name}.${app.container}`, { namespace: pod.namespace, serviceAccount: pod.serviceAccount, ...app.tls });
      fs.chmodSync(cert.key, 0o644);
      args.push('--tls', `${cert.chain},${cert.key}`);
    }
    const log = path.join(this.dir, 'pods', `${pod.namespace}.${pod.name}`, `${app.container}.log`);
    this.spawnIn(pod, APP_UID, args, log);
    pod.logs[app.container] = log;
    if (!pod.containers.some((c) => c.name === app.container)) pod.containers.push({ name: app.container, uid: APP_UID });
  }

  private async waitListening(pod: LabPod, port: number): Promise<void> {
    for (let i = 0; i < 100; i++) {
      const ss = await run(['ip', 'netns', 'exec', pod.netns, 'ss', '-Hltn', `sport = :${port}`], { reject: false });
      if (ss.stdout.trim()) return;
      await sleep(50);
    }
    throw new Error(`lab: nothing listens on port ${port} in ${pod.name}.${pod.namespace}`);
  }

  /** A long-running process in the pod's namespace as `uid`, output appended to `log`; it dies with this process (pdeathsig). */
  private spawnIn(pod: LabPod, uid: number, argv: string[], log: string) {
    const fd = fs.openSync(log, 'a');
    // Envoy reopens /dev/stdout for its access log (Istio's accessLogFile): the file must be the container user's.
    fs.fchownSync(fd, uid, uid);
    const child = spawn('ip', ['netns', 'exec', pod.netns, 'setpriv', `--reuid=${uid}`, `--regid=${uid}`, '--clear-groups', '--pdeathsig=KILL', ...argv], { stdio: ['ignore', fd, fd] });
    fs.closeSync(fd);
    child.unref();
    return child;
  }

  /** Runs a command in a container of the pod (its namespace, its uid), as `kubectl exec` would. */
  async exec(pod: LabPod, container: string, argv: readonly string[], options: { timeout?: number; input?: string } = {}): Promise<ExecResult> {
    const uid = pod.containers.find((c) => c.name === container)?.uid ?? APP_UID;
    const PATH = `${path.join(this.dir, 'bin')}:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin`;
    const result = await run(['ip', 'netns', 'exec', pod.netns, 'setpriv', `--reuid=${uid}`, `--regid=${uid}`, '--clear-groups', 'env', `PATH=${PATH}`, ...argv], { reject: false, timeout: options.timeout ?? 20_000, input: options.input });
    return { stdout: result.stdout, stderr: result.stderr, exitCode: result.exitCode ?? 1 };
  }

  /** Sends the scenario's own request (LabScenario.traffic) from its pod. */
  sendTraffic(): Promise<ExecResult> {
    const t = this.scenario.traffic;
    return this.exec(this.pod(t.namespace, t.pod), t.container, t.argv.map((a) => a.replace('$CA', this.caRoot)), { timeout: t.timeoutMs });
  }

  /** What `pilot-agent request METHOD PATH` does: an HTTP request to Envoy's admin on localhost:15000. */
  async admin(pod: LabPod, method: 'GET' | 'POST', adminPath: string): Promise<{ status: number; body: string }> {
    const result = await this.exec(pod, 'istio-proxy', ['curl', '-sS', '-X', method, '-w', '\n%{http_code}', `http://127.0.0.1:15000/${adminPath.replace(/^\//, '')}`], { timeout: 10_000 });
    if (result.exitCode !== 0) throw new Error(`admin ${method} ${adminPath}: ${result.stderr.trim()}`);
    const cut = result.stdout.lastIndexOf('\n');
    return { status: Number(result.stdout.slice(cut + 1)), body: result.stdout.slice(0, cut) };
  }

  /** A container's output so far. */
  log(pod: LabPod, container: string): string {
    const file = pod.logs[container];
    return file && fs.existsSync(file) ? fs.readFileSync(file, 'utf8') : '';
  }

  /** The lab as the test cluster's data plane (test/cluster/server.ts LabBackend). */
  backend(): LabBackend {
    const find = (ns: string, name: string) => this.pods.find((p) => p.namespace === ns && p.name === name);
    return {
      has: (ns, name) => find(ns, name) !== undefined,
      exec: (ns, name, container, command) => this.exec(find(ns, name)!, container, command, { timeout: 60_000 }),
      logText: (ns, name, container) => this.log(find(ns, name)!, container),
      levels: async (ns, name) => {
        const pod = find(ns, name)!;
        if (!pod.envoy) return undefined;
        const answer = await this.admin(pod, 'POST', 'logging').catch(() => undefined);
        const levels = answer ? parseLoggingText(answer.body) : undefined;
        return levels ? Object.fromEntries(levels) : undefined;
      },
    };
  }

  async stop(): Promise<void> {
    await this.footprint.remove();
  }
}
