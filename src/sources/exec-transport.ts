/**
 * How a command runs in a container (`kubectl exec`), in two ways that give
 * the same answer:
 *
 * - `kubectlExec`: one `kubectl exec POD -c C -- ARGV` process per call. Each
 *   kubectl process costs ~80 ms of CPU, which sets the floor of a run that
 *   reads hundreds of sidecars.
 * - `proxySession`: one `kubectl proxy` per run, on a Unix socket in a private
 *   temporary directory, that lets through nothing but GET on pods/exec and
 *   pods/log; every exec is then an in-process WebSocket request through it
 *   (the `v5.channel.k8s.io` / `v4.channel.k8s.io` stream protocols, the ones
 *   kubectl itself speaks), and a log read a plain GET. kubectl still does all the talking to the cluster,
 *   so it keeps owning authentication (certificates, tokens, exec credential
 *   plugins, OIDC). If the proxy cannot start, or a request cannot reach the
 *   API server through it, the rest of the run uses `kubectl exec`.
 *
 * Both return what `kubectl exec` would have returned: its stdout, its stderr
 * (the command's, then kubectl's own message such as `Error from server
 * (Forbidden): ...` or `command terminated with exit code 35`) and its exit
 * code, so classifyFailure gives the same error either way. They throw only
 * the errors kubectl's runner throws: timeout, output cap, kubectl missing.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { watchdogArgv } from './kubectl-proxy-watchdog.js';
import { chmodSync, mkdtempSync, rmSync } from 'node:fs';
import { get as httpGet } from 'node:http';
import { createConnection } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type WebSocket from 'ws';
import { registerCleanup } from '../lifecycle.js';
import { MAX_OUTPUT_BYTES, outputCapError, timeoutError, type CommandResult, type Kubectl } from './kubectl.js';
import type { PodRef } from './source.js';

/** A command to run in a container of a pod. */
export interface ExecTarget {
  pod: PodRef;
  container: string;
  command: readonly string[];
}

export interface ExecTransport {
  readonly kind: 'kubectl-exec' | 'proxy';
  /** What `kubectl exec` would return (a non-zero exit is a result, not an error). */
  exec(target: ExecTarget): Promise<CommandResult>;
  /**
   * A container's log as `kubectl logs` prints it, when this transport can read
   * it itself; undefined means "ask kubectl" (and so every error stays kubectl's own words).
   */
  log?(target: LogTarget): Promise<string | undefined>;
  /** Starts, in the background, what the first exec will need, so it overlaps other work. */
  prepare(): void;
  /** Stops what the transport started (the proxy process, its socket directory). Idempotent. */
  close(): Promise<void>;
}

/** A container log to read: `kubectl logs POD -c C [--since-time=T] [--tail=N]`. */
export interface LogTarget {
  pod: PodRef;
  container: string;
  sinceTime?: string;
  tail?: number;
}

/** `kubectl exec` arguments for a target: the command a person would run, and the fallback's argv. */
export function execArgs(target: ExecTarget): string[] {
  return ['exec', target.pod.name, '-n', target.pod.namespace, '-c', target.container, '--', ...target.command];
}

/** One `kubectl exec` process per call (today's way; the fallback of proxySession). */
export function kubectlExec(kubectl: Kubectl): ExecTransport {
  return {
    kind: 'kubectl-exec',
    exec: (target) => kubectl.run(execArgs(target), { allowFailure: true }),
    prepare: () => undefined,
    close: async () => undefined,
  };
}

// ---------------------------------------------------------------------------
// The Kubernetes exec stream protocol (channel.k8s.io, versions 4 and 5): each
// binary WebSocket message is one byte of channel then data. 0 stdin, 1
// stdout, 2 stderr, 3 the error channel (a JSON metav1.Status: Success, or
// Failure with reason NonZeroExitCode and the exit code in details.causes),
// 4 terminal resize, 255 (v5) close a channel.

/** Subprotocols offered, preferred first; the server picks one (client-go offers them the same way). */
export const EXEC_PROTOCOLS = ['v5.channel.k8s.io', 'v4.channel.k8s.io'] as const;

const STDOUT = 1;
const STDERR = 2;
const ERROR_CHANNEL = 3;
/** The error channel carries one small Status; anything bigger is not one. */
const MAX_STATUS_BYTES = 1024 * 1024;

/** How the WebSocket ended: the close code (1000 normal, 1005 no code, 1006 dropped) and reason. */
export interface StreamClose {
  code: number;
  reason?: string;
}

/**
 * Collects the frames of one exec and turns them into kubectl exec's result.
 * Throws only MeshDoctorErrors (the output cap); arbitrary frames are data.
 */
export class ExecStream {
  private readonly stdout: Buffer[] = [];
  private readonly stderr: Buffer[] = [];
  private readonly status: Buffer[] = [];
  private stdoutBytes = 0;
  private stderrBytes = 0;
  private statusBytes = 0;

  constructor(private readonly line: string, private readonly maxBytes: number = MAX_OUTPUT_BYTES) {}

  /** One WebSocket message (ws hands over a Buffer, an ArrayBuffer or fragments). */
  push(data: Buffer | ArrayBuffer | Buffer[]): void {
    const frame = Buffer.isBuffer(data) ? data : Array.isArray(data) ? Buffer.concat(data) : Buffer.from(data);
    if (frame.length === 0) return;
    const payload = frame.subarray(1);
    switch (frame[0]) {
      case STDOUT:
        this.stdoutBytes += payload.length;
        if (this.stdoutBytes > this.maxBytes) throw outputCapError(this.line, this.maxBytes);
        this.stdout.push(payload);
        return;
      case STDERR:
        this.stderrBytes += payload.length;
        if (this.stderrBytes > this.maxBytes) throw outputCapError(this.line, this.maxBytes);
        this.stderr.push(payload);
        return;
      case ERROR_CHANNEL:
        this.statusBytes += payload.length;
        if (this.statusBytes > MAX_STATUS_BYTES) throw outputCapError(this.line, MAX_STATUS_BYTES);
        this.status.push(payload);
        return;
      default:
        // stdin echo, resize, v5 close signals, channels a later protocol adds: nothing to read.
        return;
    }
  }

  /** kubectl exec's stdout, stderr and exit code once the stream ended. */
  finish(close: StreamClose): CommandResult {
    const stdout = Buffer.concat(this.stdout).toString('utf8');
    const stderr = Buffer.concat(this.stderr).toString('utf8');
    const statusText = Buffer.concat(this.status).toString('utf8');
    let outcome: StatusOutcome;
    if (statusText !== '') outcome = execStatusOutcome(statusText);
    // Like client-go: an error channel that ends cleanly without a Status means success...
    else if (close.code === 1000 || close.code === 1005) outcome = { exitCode: 0 };
    // ...and a connection that drops before the Status is a failure (kubectl: "error reading from error stream").
    else outcome = { exitCode: 1, message: `error: error reading from error stream: websocket: close ${close.code}${close.reason ? ` ${close.reason}` : ''} (the connection ended before the command's status)` };
    return { stdout, stderr: outcome.message ? `${stderr}${outcome.message}\n` : stderr, exitCode: outcome.exitCode };
  }
}

interface StatusOutcome {
  exitCode: number;
  /** What kubectl prints to stderr for it. */
  message?: string;
}

/**
 * The error channel's Status as kubectl reports it (client-go's errorDecoderV4
 * and kubectl's CheckErr): Success is exit 0; NonZeroExitCode is that exit
 * code and `command terminated with exit code N`; any other Failure is exit 1
 * and `error: MESSAGE`.
 */
export function execStatusOutcome(text: string): StatusOutcome {
  const protocolError = (detail: string): StatusOutcome => ({ exitCode: 1, message: `error: error stream protocol error: ${detail}` });
  let status: unknown;
  try {
    status = JSON.parse(text);
  } catch (error) {
    return protocolError(`${(error as Error).message} in ${JSON.stringify(text.slice(0, 200))}`);
  }
  if (!isRecord(status)) return protocolError('unknown error');
  if (status.status === 'Success') return { exitCode: 0 };
  if (status.status !== 'Failure') return protocolError('unknown error');
  if (status.reason === 'NonZeroExitCode') {
    const causes = isRecord(status.details) ? status.details.causes : undefined;
    if (!Array.isArray(causes)) return protocolError('details must be set');
    for (const cause of causes) {
      if (!isRecord(cause) || cause.reason !== 'ExitCode') continue;
      const value = String(cause.message ?? '');
      // client-go parses it as an unsigned 8-bit number.
      if (!/^\d{1,3}$/.test(value) || Number(value) > 255) return protocolError(`invalid exit code value ${JSON.stringify(value)}`);
      const code = Number(value);
      return { exitCode: code, message: `command terminated with exit code ${code}` };
    }
    return protocolError('no ExitCode cause given');
  }
  return { exitCode: 1, message: `error: ${typeof status.message === 'string' ? status.message : 'unknown error'}` };
}

/**
 * A refused upgrade (any HTTP answer but 101). When the API server answered
 * with a Status (Forbidden, NotFound, BadRequest for a container that is not
 * in the pod...), the result is what kubectl prints for it (k8s.io/kubectl
 * StandardErrorMessage): `Error from server (REASON): MESSAGE`. Anything else
 * (kubectl proxy's own refusals, a gateway error) says nothing about the
 * cluster: undefined, and the caller uses `kubectl exec` instead.
 */
export function upgradeFailure(httpStatus: number, body: string): CommandResult | undefined {
  let status: unknown;
  try {
    status = JSON.parse(body);
  } catch {
    return undefined;
  }
  if (!isRecord(status) || status.kind !== 'Status' || status.status !== 'Failure') return undefined;
  const reason = typeof status.reason === 'string' ? status.reason : '';
  const message = typeof status.message === 'string' && status.message !== '' ? status.message : `the server answered ${httpStatus}`;
  let line: string;
  if (reason === 'Unauthorized') line = `error: You must be logged in to the server (${message})`;
  else if (reason !== '' && reason !== 'Unknown') line = `Error from server (${reason}): ${message}`;
  else line = `Error from server: ${message}`;
  return { stdout: '', stderr: `${line}\n`, exitCode: 1 };
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

// ---------------------------------------------------------------------------
// The proxy session.

/**
 * What kubectl proxy lets through: GET (a WebSocket upgrade) on a pod's exec
 * subresource, nothing else. --reject-paths replaces kubectl's default, which
 * rejects exec and attach; attach stays rejected.
 */
export const PROXY_ACCEPT_PATHS = '^/api/v1/namespaces/[^/]+/pods/[^/]+/(exec|log)$';
export const PROXY_REJECT_PATHS = '^/api/.*/pods/.*/attach';
export const PROXY_REJECT_METHODS = '^(POST|PUT|PATCH|DELETE|HEAD|OPTIONS|CONNECT|TRACE)$';

/** The User-Agent of execs through the proxy. */
export const EXEC_USER_AGENT = 'mesh-doctor (exec through kubectl proxy)';

/** The request did not reach the API server (or its answer is not one): nothing ran; `kubectl exec` may retry it. */
class TransportFailure extends Error {}

export interface ProxySessionOptions {
  /** --verbose lines besides command lines: the proxy started, the run fell back to kubectl exec. */
  note?: (message: string) => void;
  /** Used when the proxy cannot be used; default kubectlExec(kubectl). */
  fallback?: ExecTransport;
  /** Output cap per stream; default the same as kubectl's runner. */
  maxOutputBytes?: number;
  /** How long kubectl proxy may take to start serving; default the per-call timeout. */
  startTimeoutMs?: number;
}

/** `kubectl proxy` on a private Unix socket, started on the first exec; execs go through it as WebSocket requests. */
export function proxySession(kubectl: Kubectl, options: ProxySessionOptions = {}): ProxySession {
  return new ProxySession(kubectl, options);
}

export class ProxySession implements ExecTransport {
  readonly kind = 'proxy' as const;
  private readonly fallback: ExecTransport;
  private useProxy = process.platform !== 'win32'; // Node reaches Unix sockets through named pipes there
  private starting?: Promise<string | undefined>;
  /** The watchdog, whose child is kubectl proxy. */
  private child?: ChildProcess;
  private proxyPid?: number;
  private dir?: string;
  private stopping?: Promise<void>;
  private unregister?: () => void;
  private readonly open = new Set<WebSocket>();
  /** ws, loaded with the proxy: offline runs and --version never load it. */
  private client?: typeof WebSocket;
  private readonly onProcessExit = () => this.stopNow();

  constructor(private readonly kubectl: Kubectl, private readonly options: ProxySessionOptions = {}) {
    this.fallback = options.fallback ?? kubectlExec(kubectl);
  }

  /** The kubectl proxy process id once it started (tests check it is gone after a run). */
  get pid(): number | undefined {
    return this.proxyPid;
  }

  /** Whether calls still go through the proxy (false after a fallback or close). */
  get active(): boolean {
    return this.useProxy;
  }

  async exec(target: ExecTarget): Promise<CommandResult> {
    if (this.useProxy) {
      const result = await this.kubectl.limited(() => this.viaProxy(target));
      if (result) return result;
    }
    // Outside the pool: the fallback's kubectl.run takes its own slot.
    return this.fallback.exec(target);
  }

  async log(target: LogTarget): Promise<string | undefined> {
    if (!this.useProxy) return undefined;
    return this.kubectl.limited(async () => {
      const socket = await this.start();
      if (!socket || !this.useProxy) return undefined;
      const query = new URLSearchParams({ container: target.container });
      if (target.sinceTime) query.set('sinceTime', target.sinceTime);
      if (target.tail !== undefined) query.set('tailLines', String(target.tail));
      const url = `/api/v1/namespaces/${encodeURIComponent(target.pod.namespace)}/pods/${encodeURIComponent(target.pod.name)}/log?${query}`;
      return this.get(socket, url);
    });
  }

  /** A GET through the proxy: the body of a 200, else undefined (the caller asks kubectl, for its words). */
  private get(socket: string, url: string): Promise<string | undefined> {
    const maxBytes = this.options.maxOutputBytes ?? MAX_OUTPUT_BYTES;
    return new Promise((resolve) => {
      const request = httpGet({ socketPath: socket, path: url, headers: { 'User-Agent': EXEC_USER_AGENT }, timeout: this.kubectl.options.timeoutMs }, (response) => {
        if (response.statusCode !== 200) {
          response.resume();
          return resolve(undefined);
        }
        const chunks: Buffer[] = [];
        let size = 0;
        response.on('data', (chunk: Buffer) => {
          size += chunk.length;
          if (size > maxBytes) request.destroy(); // kubectl's runner gives the output-cap error
          else chunks.push(chunk);
        });
        response.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
        response.on('error', () => resolve(undefined));
      });
      request.on('timeout', () => request.destroy());
      request.on('error', () => resolve(undefined));
    });
  }

  prepare(): void {
    if (this.useProxy) void this.start();
  }

  async close(): Promise<void> {
    this.useProxy = false;
    for (const ws of this.open) ws.terminate();
    this.open.clear();
    await this.stop();
    await this.fallback.close();
  }

  /** undefined: use the fallback for this call. */
  private async viaProxy(target: ExecTarget): Promise<CommandResult | undefined> {
    if (!this.useProxy) return undefined;
    const socket = await this.start();
    if (!socket || !this.useProxy) return undefined;
    const line = this.kubectl.commandLine(execArgs(target));
    this.kubectl.options.onCommand?.(line);
    try {
      return await this.request(socket, target, line);
    } catch (error) {
      if (!(error instanceof TransportFailure)) throw error;
      this.giveUp(`the exec could not go through kubectl proxy (${error.message})`);
      return undefined;
    }
  }

  /** From now on every call uses `kubectl exec` (said once, under --verbose). */
  private giveUp(why: string): void {
    if (!this.useProxy) return;
    this.useProxy = false;
    this.options.note?.(`mesh-doctor: ${why}; using one \`kubectl exec\` per call for the rest of the run`);
    // kubectl proxy, if still up, stays until the run ends: calls already in flight through it finish there.
  }

  private start(): Promise<string | undefined> {
    this.starting ??= this.launch().catch((error: Error) => {
      this.giveUp(`kubectl proxy did not start (${error.message})`);
      void this.stop();
      return undefined;
    });
    return this.starting;
  }

  private async launch(): Promise<string> {
    this.client = (await import('ws')).default;
    // A private directory (0700): only this user can reach the socket, which carries their credentials.
    const dir = mkdtempSync(path.join(tmpdir(), 'mesh-doctor-'));
    chmodSync(dir, 0o700);
    this.dir = dir;
    this.unregister = registerCleanup(() => this.stop());
    process.on('exit', this.onProcessExit);
    const socket = path.join(dir, 'kube.sock');
    const args = [
      'proxy', `--unix-socket=${socket}`,
      // Servers behind a path (Rancher's /k8s/clusters/ID) get it as kubectl exec would send it.
      '--append-server-path',
      `--accept-paths=${PROXY_ACCEPT_PATHS}`,
      `--reject-paths=${PROXY_REJECT_PATHS}`,
      `--reject-methods=${PROXY_REJECT_METHODS}`,
    ];
    // Through the watchdog (kubectl-proxy-watchdog.ts): kubectl proxy goes away with mesh-doctor even after a hard kill.
    const child = spawn(process.execPath, [...watchdogArgv(), this.kubectl.options.binary ?? 'kubectl', ...this.kubectl.globalArgs(), ...args], {
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    this.child = child;
    child.stdin!.on('error', () => undefined);
    let proxyPid: number | undefined;
    let stderrTail = '';
    child.stderr!.on('data', (chunk: Buffer) => { stderrTail = (stderrTail + chunk.toString('utf8')).slice(-2000); });
    const timeoutMs = this.options.startTimeoutMs ?? this.kubectl.options.timeoutMs;
    await new Promise<void>((resolve, reject) => {
      let stdout = '';
      const timer = setTimeout(() => reject(new Error(`not serving after ${Math.round(timeoutMs / 1000)}s`)), timeoutMs);
      const done = (error?: Error) => {
        clearTimeout(timer);
        child.stdout!.off('data', onData);
        child.off('exit', onExit);
        if (error) reject(error);
        else resolve();
      };
      const onData = (chunk: Buffer) => {
        stdout += chunk.toString('utf8');
        proxyPid ??= Number(/^kubectl pid (\d+)$/m.exec(stdout)?.[1]) || undefined;
        if (/Starting to serve on /.test(stdout)) done();
      };
      const onExit = (code: number | null, signal: NodeJS.Signals | null) => {
        done(new Error(`it exited (${signal ?? `code ${code}`})${stderrTail.trim() ? `: ${lastLine(stderrTail)}` : ''}`));
      };
      child.stdout!.on('data', onData);
      child.once('exit', onExit);
      child.once('error', (error) => done(error));
    });
    // Keep draining its output (a full pipe would stall it), but never keep Node alive for it.
    child.stdout!.resume();
    for (const stream of [child.stdin, child.stdout, child.stderr]) (stream as unknown as { unref?: () => void } | null)?.unref?.();
    child.unref();
    this.proxyPid = proxyPid;
    child.once('exit', (code, signal) => {
      if (!this.stopping) this.giveUp(`kubectl proxy exited (${signal ?? `code ${code}`})${stderrTail.trim() ? `: ${lastLine(stderrTail)}` : ''}`);
    });
    this.options.note?.(`mesh-doctor: started \`${this.kubectl.commandLine(args)}\` (pid ${proxyPid ?? child.pid}); each exec below goes through it as a WebSocket request`);
    return socket;
  }

  private request(socket: string, target: ExecTarget, line: string): Promise<CommandResult> {
    const query = new URLSearchParams();
    query.append('container', target.container);
    for (const word of target.command) query.append('command', word);
    query.append('stdout', 'true');
    query.append('stderr', 'true');
    const url = `ws://localhost/api/v1/namespaces/${encodeURIComponent(target.pod.namespace)}/pods/${encodeURIComponent(target.pod.name)}/exec?${query}`;
    const maxBytes = this.options.maxOutputBytes ?? MAX_OUTPUT_BYTES;
    const timeoutMs = this.kubectl.options.timeoutMs;
    return new Promise<CommandResult>((resolve, reject) => {
      const stream = new ExecStream(line, maxBytes);
      let opened = false;
      let settled = false;
      const ws = new this.client!(url, [...EXEC_PROTOCOLS], {
        createConnection: () => createConnection(socket),
        perMessageDeflate: false,
        followRedirects: false,
        maxPayload: maxBytes + 1,
        // kubectl proxy passes it on: API server audit logs name mesh-doctor, not kubectl.
        headers: { 'User-Agent': EXEC_USER_AGENT },
      });
      this.open.add(ws);
      const settle = (finish: () => void) => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        this.open.delete(ws);
        finish();
      };
      const timer = setTimeout(() => {
        settle(() => reject(timeoutError(line, timeoutMs)));
        ws.terminate();
      }, timeoutMs);
      ws.on('open', () => { opened = true; });
      ws.on('unexpected-response', (request, response) => {
        const chunks: Buffer[] = [];
        let size = 0;
        response.on('data', (chunk: Buffer) => {
          size += chunk.length;
          if (size <= 64 * 1024) chunks.push(chunk);
        });
        response.on('error', () => undefined);
        response.on('end', () => {
          const body = Buffer.concat(chunks).toString('utf8');
          const answer = upgradeFailure(response.statusCode ?? 0, body);
          settle(() => (answer ? resolve(answer) : reject(new TransportFailure(`HTTP ${response.statusCode}: ${lastLine(body) || 'no body'}`))));
          request.destroy();
        });
      });
      ws.on('message', (data: Buffer | ArrayBuffer | Buffer[]) => {
        try {
          stream.push(data);
        } catch (error) {
          settle(() => reject(error));
          ws.terminate();
        }
      });
      ws.on('error', (error) => {
        // Before the upgrade nothing ran in the container: the caller may use kubectl exec instead.
        // After it, the close event reports the stream as kubectl would.
        if (!opened) settle(() => reject(new TransportFailure(error.message)));
      });
      ws.on('close', (code, reason) => {
        settle(() => (opened ? resolve(stream.finish({ code, reason: reason.toString('utf8') })) : reject(new TransportFailure(`connection closed (${code})`))));
      });
    });
  }

  /** Stops kubectl proxy (SIGTERM to the watchdog, which passes it on; SIGKILL after 3 s) and removes its directory. */
  private stop(): Promise<void> {
    this.stopping ??= (async () => {
      this.useProxy = false;
      this.unregister?.();
      const child = this.child;
      if (child?.pid !== undefined && child.exitCode === null && child.signalCode === null) {
        const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
        child.kill('SIGTERM');
        let timer: NodeJS.Timeout | undefined;
        const late = new Promise<'late'>((resolve) => { timer = setTimeout(() => resolve('late'), 3000); });
        if ((await Promise.race([exited, late])) === 'late') child.kill('SIGKILL');
        clearTimeout(timer);
      }
      this.removeDir();
      process.off('exit', this.onProcessExit);
    })();
    return this.stopping;
  }

  /** On process exit (no more event loop): kill and remove synchronously. */
  private stopNow(): void {
    const child = this.child;
    if (child?.pid !== undefined && child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
    this.removeDir();
  }

  private removeDir(): void {
    if (!this.dir) return;
    try {
      rmSync(this.dir, { recursive: true, force: true });
    } catch {
      // best effort: a leftover empty directory in the temp dir
    }
    this.dir = undefined;
  }
}

function lastLine(text: string): string {
  return text.trim().split('\n').filter((l) => l.trim() !== '').at(-1)?.slice(0, 300) ?? '';
}
