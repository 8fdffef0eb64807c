/**
 * The lab's footprint on the host, and the only code that creates or removes
 * it: network namespaces, one bridge and its veths (all named with the lab's
 * prefix and a run id), per-namespace /etc/netns files, a run directory, and
 * the processes inside the namespaces. Every name is recorded in a state file
 * *before* it is created, so a run that dies at any point is swept by the next
 * one; nothing without the prefix is ever touched, and the host's own
 * interfaces, routes and iptables are never changed (pods' nat tables live in
 * their own namespaces).
 */
import fs from 'node:fs';
import path from 'node:path';
import { execa } from 'execa';

/** Everything the lab creates starts with this. */
export const LAB_PREFIX = 'mdlab';
const STATE_DIR = '/run/mesh-doctor-lab';

export interface LabFootprint {
  id: string;
  /** The process that owns the run, and its start time (so a reused PID is not taken for it). */
  owner: number;
  ownerStart: string;
  netns: string[];
  links: string[];
  dirs: string[];
}

function statePath(id: string): string {
  return path.join(STATE_DIR, `${id}.json`);
}

/** Runs a host command; output is kept byte for byte (no final newline stripped), as `kubectl exec` relays it. */
export async function run(argv: string[], options: { input?: string; reject?: boolean; timeout?: number } = {}) {
  return execa(argv[0], argv.slice(1), {
    reject: options.reject ?? true, input: options.input, timeout: options.timeout ?? 30_000,
    stdin: options.input === undefined ? 'ignore' : undefined, stripFinalNewline: false,
  });
}

/** Why the lab cannot run on this machine, or undefined when it can. */
export async function labUnavailable(): Promise<string | undefined> {
  if (process.platform !== 'linux') return `the mesh lab needs Linux network namespaces (this is ${process.platform})`;
  if (process.getuid?.() !== 0) return 'the mesh lab needs root (network namespaces and iptables); run as root';
  for (const tool of ['ip', 'iptables-save', 'setpriv', 'curl', 'openssl']) {
    const found = await run(['sh', '-c', `command -v ${tool}`], { reject: false });
    if (found.exitCode !== 0) return `the mesh lab needs ${tool} (apt-get install iproute2 iptables util-linux curl openssl)`;
  }
  const probe = `${LAB_PREFIX}-probe-${process.pid}`;
  const add = await run(['ip', 'netns', 'add', probe], { reject: false });
  if (add.exitCode !== 0) return `cannot create a network namespace: ${add.stderr.trim()}`;
  await run(['ip', 'netns', 'del', probe], { reject: false });
  return undefined;
}

/** A run's footprint, recorded on disk as it grows. */
export class Footprint {
  readonly state: LabFootprint;
  constructor(id: string) {
    this.state = { id, owner: process.pid, ownerStart: startTime(process.pid) ?? '', netns: [], links: [], dirs: [] };
    this.save();
  }

  private save(): void {
    fs.mkdirSync(STATE_DIR, { recursive: true });
    fs.writeFileSync(statePath(this.state.id), JSON.stringify(this.state));
  }

  record(kind: 'netns' | 'links' | 'dirs', name: string): string {
    if (!name.includes(LAB_PREFIX) && kind !== 'dirs') throw new Error(`lab: refusing to own ${name} (no ${LAB_PREFIX} prefix)`);
    this.state[kind].push(name);
    this.save();
    return name;
  }

  async remove(): Promise<void> {
    await removeFootprint(this.state);
  }
}

async function killNamespaceProcesses(netns: string): Promise<void> {
  // `ip netns pids` lists exactly the processes inside our namespace: no PID-reuse guesswork.
  for (let attempt = 0; attempt < 20; attempt++) {
    const pids = (await run(['ip', 'netns', 'pids', netns], { reject: false })).stdout.split(/\s+/).filter(Boolean).map(Number);
    if (pids.length === 0) return;
    for (const pid of pids) {
      try { process.kill(pid, attempt < 5 ? 'SIGTERM' : 'SIGKILL'); } catch { /* already gone */ }
    }
    await new Promise((r) => setTimeout(r, 50));
  }
}

async function removeFootprint(state: LabFootprint): Promise<void> {
  for (const ns of state.netns) {
    await killNamespaceProcesses(ns);
    await run(['ip', 'netns', 'del', ns], { reject: false });
    fs.rmSync(path.join('/etc/netns', ns), { recursive: true, force: true });
  }
  for (const link of state.links) await run(['ip', 'link', 'del', link], { reject: false });
  for (const dir of state.dirs) fs.rmSync(dir, { recursive: true, force: true });
  fs.rmSync(statePath(state.id), { force: true });
}

/** A process's start time in clock ticks since boot (/proc/<pid>/stat field 22), or undefined when it is gone. */
function startTime(pid: number): string | undefined {
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2).split(' ')[19];
  } catch {
    return undefined;
  }
}

/** Removes what earlier runs left behind when their owner died (a kill, a crash); returns their ids. */
export async function sweepStaleRuns(): Promise<string[]> {
  if (!fs.existsSync(STATE_DIR)) return [];
  const swept: string[] = [];
  for (const file of fs.readdirSync(STATE_DIR).filter((f) => f.endsWith('.json'))) {
    let state: LabFootprint;
    try {
      state = JSON.parse(fs.readFileSync(path.join(STATE_DIR, file), 'utf8'));
    } catch {
      continue;
    }
    if (startTime(state.owner) === state.ownerStart) continue; // its owner still runs
    await removeFootprint(state);
    swept.push(state.id);
  }
  return swept;
}
