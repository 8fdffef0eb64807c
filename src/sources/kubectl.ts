import { execa, type ResultPromise } from 'execa';
import { shellQuote } from './shell-quote.js';
import pLimit, { type LimitFunction } from 'p-limit';
import { MeshDoctorError } from '../errors.js';

export interface KubectlOptions {
  context?: string;
  kubeconfig?: string;
  /** Per call, in ms. */
  timeoutMs: number;
  /** Calls in flight at once (independent fetches run in parallel within it). */
  concurrency: number;
  /** Called with every command line before it runs (--verbose). */
  onCommand?: (commandLine: string) => void;
  /** Called with the few things --verbose tells besides command lines (the exec transport starting or falling back). */
  onNote?: (message: string) => void;
  /** Name of the kubectl binary; tests point it elsewhere. */
  binary?: string;
}

export interface CommandResult {
  stdout: string;
  stderr: string;
  exitCode: number;
}

/** Largest output read from one call; a full config dump of a big mesh is tens of MB. */
export const MAX_OUTPUT_BYTES = 512 * 1024 * 1024;

/** A call that outlived its timeout (the same words whether kubectl or the exec transport ran it). */
export function timeoutError(line: string, timeoutMs: number): MeshDoctorError {
  return new MeshDoctorError('timeout', `\`${line}\` did not finish within ${Math.round(timeoutMs / 1000)}s`, {
    suggestion: 'Check that the cluster answers (`kubectl get --raw /version`), or raise --timeout.',
  });
}

/** A call that printed more than the output cap. */
export function outputCapError(line: string, maxBytes: number = MAX_OUTPUT_BYTES): MeshDoctorError {
  return new MeshDoctorError('parse', `\`${line}\` printed more than ${maxBytes / 1024 / 1024} MB; the output was cut`, {
    suggestion: 'Narrow the request (one pod, one namespace).',
  });
}

/**
 * Runs kubectl with an argument array (never a shell string), a timeout, an
 * output cap and a bounded number of calls in flight, and turns its failures
 * into MeshDoctorErrors that name the fix.
 */
export class Kubectl {
  private readonly limit: LimitFunction;
  private readonly running = new Set<ResultPromise>();

  constructor(readonly options: KubectlOptions) {
    this.limit = pLimit(Math.max(1, options.concurrency));
  }

  /** Runs work in the same bounded pool as kubectl calls (the exec transport's in-process requests). */
  limited<T>(work: () => Promise<T>): Promise<T> {
    return this.limit(work);
  }

  /** kubectl's own global flags, which it does not pass to plugins: we add them back. */
  globalArgs(): string[] {
    const args: string[] = [];
    if (this.options.kubeconfig) args.push('--kubeconfig', this.options.kubeconfig);
    if (this.options.context) args.push('--context', this.options.context);
    return args;
  }

  /** The command line a person would type, for --verbose and evidence. */
  commandLine(args: readonly string[]): string {
    return ['kubectl', ...this.globalArgs(), ...args].map(shellQuote).join(' ');
  }

  /** Runs kubectl; a non-zero exit becomes a typed error unless allowFailure. */
  run(args: readonly string[], options: { allowFailure?: boolean; timeoutMs?: number; what?: string } = {}): Promise<CommandResult> {
    return this.limit(async () => {
      const line = this.commandLine(args);
      this.options.onCommand?.(line);
      const child = execa(this.options.binary ?? 'kubectl', [...this.globalArgs(), ...args], {
        reject: false,
        timeout: options.timeoutMs ?? this.options.timeoutMs,
        maxBuffer: MAX_OUTPUT_BYTES,
        stdin: 'ignore',
        stripFinalNewline: false,
        forceKillAfterDelay: 2000,
      });
      this.running.add(child);
      const result = await child.finally(() => this.running.delete(child));
      if (result.failed && (result as { code?: string }).code === 'ENOENT') {
        throw new MeshDoctorError('kubectl-missing', 'kubectl is not installed or not on PATH', {
          suggestion: 'Install kubectl (https://kubernetes.io/docs/tasks/tools/) or run offline with --from <snapshot>.',
        });
      }
      if (result.timedOut) throw timeoutError(line, options.timeoutMs ?? this.options.timeoutMs);
      if ((result as { isMaxBuffer?: boolean }).isMaxBuffer) throw outputCapError(line);
      const out: CommandResult = {
        stdout: String(result.stdout ?? ''),
        stderr: String(result.stderr ?? ''),
        exitCode: result.exitCode ?? 1,
      };
      if (out.exitCode !== 0 && !options.allowFailure) throw classifyFailure(line, out, options.what);
      return out;
    });
  }

  /** Stops every call in flight (Ctrl-C). */
  killAll(): void {
    for (const child of this.running) child.kill('SIGTERM');
  }
}

/** Turns kubectl's stderr into the error a user can act on. */
export function classifyFailure(line: string, result: CommandResult, what?: string): MeshDoctorError {
  const stderr = result.stderr.trim();
  // kubectl prefixes the real message with klog lines (`E1121 06:55:26.599134 ... memcache.go`); skip them.
  const lines = stderr.split('\n').filter((l) => l.trim() !== '' && !/^[EIWF]\d{4} \d{2}:/.test(l));
  const first = lines.find((l) => /^(Error|error|The connection|Unable)/.test(l)) ?? lines.at(-1) ?? `exit code ${result.exitCode}`;
  const subject = what ? `${what}: ` : '';
  const forbidden = /cannot (\w+) resource "([^"]+)"(?: in API group "([^"]*)")?(?: in the namespace "([^"]+)")?/.exec(stderr);
  if (forbidden || /\bForbidden\b|\(Forbidden\)/.test(stderr)) {
    const verb = forbidden?.[1];
    const resource = forbidden?.[2];
    const group = forbidden?.[3] ? `.${forbidden[3]}` : '';
    const where = forbidden?.[4] ? ` in namespace ${forbidden[4]}` : '';
    return new MeshDoctorError('forbidden', `${subject}forbidden${verb ? `: your user may not ${verb} ${resource}${group}${where}` : ''} (${first})`, {
      suggestion: verb
        ? `Ask for RBAC that grants "${verb}" on "${resource}${group}"${where}; see the README's RBAC section.`
        : 'Check your RBAC: mesh-doctor needs get/list, pods/exec and pods/log (README, RBAC).',
    });
  }
  if (/container (\S+) is not valid for pod|container not found \("?istio-proxy/.test(stderr)) {
    return new MeshDoctorError('no-sidecar', `${subject}the pod has no istio-proxy container (${first})`, {
      suggestion: 'Pick a pod with an Istio sidecar (`kubectl get pods -l security.istio.io/tlsMode=istio`).',
    });
  }
  if (/NotFound|not found/.test(stderr) && /Error from server/.test(stderr)) {
    return new MeshDoctorError('not-found', `${subject}${first.replace(/^Error from server \(NotFound\): /, '')}`, {
      suggestion: 'Check the name and namespace (`kubectl get pods -A | grep NAME`); pods take name or name.namespace.',
    });
  }
  if (/current-context is not set|no configuration has been provided|context ".*" does not exist|context was not found|cannot locate context|current-context must exist|localhost:8080 was refused/.test(stderr)) {
    return new MeshDoctorError('no-context', `${subject}no usable Kubernetes context (${first})`, {
      suggestion: 'Select one with `kubectl config use-context NAME`, pass --context/--kubeconfig, or run offline with --from <snapshot>.',
    });
  }
  if (/Unable to connect to the server|was refused - did you specify|dial tcp|connection refused|i\/o timeout|no such host|TLS handshake timeout|the server is currently unable|context deadline exceeded/.test(stderr)) {
    return new MeshDoctorError('unreachable', `${subject}the cluster does not answer (${first})`, {
      suggestion: 'Check the API server address and your network (`kubectl cluster-info`), or run offline with --from <snapshot>.',
    });
  }
  if (/executable file not found|exit code 127|command terminated with exit code 127/.test(stderr)) {
    return new MeshDoctorError('exec-failed', `${subject}the command is not available in the container (${first})`, {
      suggestion: 'The container image lacks that tool; mesh-doctor falls back where it can.',
    });
  }
  return new MeshDoctorError('exec-failed', `${subject}\`${line}\` failed: ${first}`, {
    suggestion: 'Run the command yourself with --verbose to see the whole output.',
  });
}
