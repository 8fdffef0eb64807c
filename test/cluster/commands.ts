// What a command run with `kubectl exec` prints, answered from the snapshot:
// pilot-agent request (istio-proxy), ss/netstat (istio-proxy), cat
// /proc/net/tcp, recorded probes (probes/<name>.txt), else "executable file
// not found".
//
// probes/<name>.txt format (a mesh-doctor convention, see fixtures/PROVENANCE.md):
//   # command: curl -sv https://example.com      (required; argv joined by single spaces)
//   # container: app                            (optional; default: any container)
//   # exit: 35                                  (optional; default 0)
//   <stdout lines>
//   # --- stderr ---                            (optional; what follows goes to stderr)
//   <stderr lines>

import {existsSync, readdirSync, readFileSync} from 'node:fs';
import {join} from 'node:path';
import {pilotAgentRequest, type ExecResult, type ProxyState} from './envoy-admin.js';
import {readOptional, type K8sObject} from './snapshot.js';

export interface CommandContext {
  container: string;
  command: string[];
  pod: K8sObject;
  proxyDir: string | undefined;
  proxyRel: string;
  state: ProxyState;
  missingExecutable: {style: 'containerd'} | {style: 'exit-code'; code: number};
}

export interface CommandResult extends ExecResult {
  /** a Status to send on the error channel instead of an exit code */
  statusError?: Record<string, unknown>;
}

interface Probe {
  command: string;
  container?: string;
  exit: number;
  stdout: string;
  stderr: string;
}

export function parseProbe(text: string): Probe | undefined {
  const lines = text.split('\n');
  let command: string | undefined;
  let container: string | undefined;
  let exit = 0;
  let i = 0;
  for (; i < lines.length; i++) {
    const m = /^# (command|container|exit): (.*)$/.exec(lines[i]);
    if (!m) break;
    if (m[1] === 'command') command = m[2].trim();
    else if (m[1] === 'container') container = m[2].trim();
    else exit = Number(m[2].trim());
  }
  if (!command) return undefined;
  const body = lines.slice(i).join('\n');
  const sep = body.indexOf('# --- stderr ---\n');
  const stdout = sep < 0 ? body : body.slice(0, sep);
  const stderr = sep < 0 ? '' : body.slice(sep + '# --- stderr ---\n'.length);
  return {command, container, exit, stdout, stderr};
}

function probes(dir: string | undefined): Probe[] {
  if (!dir) return [];
  const pdir = join(dir, 'probes');
  if (!existsSync(pdir)) return [];
  return readdirSync(pdir)
    .filter((f) => f.endsWith('.txt'))
    .sort()
    .map((f) => parseProbe(readFileSync(join(pdir, f), 'utf8')))
    .filter((p): p is Probe => p !== undefined);
}

const norm = (s: string) => s.trim().split(/\s+/).join(' ');

export function runCommand(ctx: CommandContext): CommandResult {
  const {container, command, proxyDir} = ctx;
  const argv0 = command[0] ?? '';
  const base = argv0.split('/').pop() ?? '';
  const joined = norm(command.join(' '));
  const isProxy = container === 'istio-proxy';

  for (const p of probes(proxyDir)) {
    if (norm(p.command) === joined && (!p.container || p.container === container)) {
      return {stdout: p.stdout, stderr: p.stderr, exitCode: p.exit};
    }
  }
  if (isProxy && base === 'pilot-agent' && command[1] === 'request') {
    return pilotAgentRequest({dir: proxyDir, rel: ctx.proxyRel, state: ctx.state}, command.slice(2));
  }
  if (isProxy && (base === 'ss' || base === 'netstat')) {
    const text = readOptional(proxyDir, 'netstat');
    if (text === undefined) return notFound(ctx, argv0);
    let out = text.endsWith('\n') ? text : text + '\n';
    const noHeader = base === 'ss' && command.slice(1).some((a) => /^-[a-zA-Z]*H/.test(a));
    if (noHeader) out = out.split('\n').filter((l) => !/^(State|Netid|Active|Proto)\b/.test(l)).join('\n');
    return {stdout: out, stderr: '', exitCode: 0};
  }
  if (base === 'cat' && command.length === 2 && /^\/proc\/(self\/)?net\/tcp6?$/.test(command[1])) {
    const file = command[1].endsWith('6') ? 'proc-net-tcp6' : 'proc-net-tcp';
    const text = readOptional(proxyDir, file);
    if (text !== undefined) return {stdout: text, stderr: '', exitCode: 0};
    return notFound(ctx, argv0);
  }
  return notFound(ctx, argv0);
}

function notFound(ctx: CommandContext, argv0: string): CommandResult {
  const oci = `OCI runtime exec failed: exec failed: unable to start container process: exec: "${argv0}": executable file not found in $PATH: unknown`;
  if (ctx.missingExecutable.style === 'exit-code') {
    return {stdout: '', stderr: oci + '\n', exitCode: ctx.missingExecutable.code};
  }
  // containerd + CRI (Kubernetes >= 1.24): the exec never starts; the kubelet
  // returns an internal error on the error channel and kubectl exits 1 with
  // "error: Internal error occurred: error executing command in container: ...".
  const execId = '3f1c2a9d4b6e8f0a1c2e4d6b8a0f2c4e6d8b0a2c4e6f8a0b2c4d6e8f0a2b4c6d';
  const inner = `error executing command in container: failed to exec in container: failed to start exec "${execId}": ${oci}`;
  return {
    stdout: '', stderr: '', exitCode: 1,
    statusError: {metadata: {}, status: 'Failure', message: `Internal error occurred: ${inner}`, reason: 'InternalError', details: {causes: [{message: inner}]}, code: 500},
  };
}
