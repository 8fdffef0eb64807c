/**
 * Recorded command output in a snapshot: `proxies/<ns>/<pod>/probes/<name>.txt`
 * (a mesh-doctor addition to the bug-report layout, docs/snapshot-layout.md):
 *
 *   # command: curl -sv https://example.com   (required; argv joined by single spaces)
 *   # container: sleep                         (optional; default: any container)
 *   # exit: 35                                 (optional; default 0)
 *   <stdout lines>
 *   # --- stderr ---                           (optional; what follows went to stderr)
 *   <stderr lines>
 */
export interface RecordedProbe {
  command: string;
  container?: string;
  exitCode: number;
  stdout: string;
  stderr: string;
}

const STDERR_MARK = '# --- stderr ---\n';

export function parseRecordedProbe(text: string): RecordedProbe | undefined {
  const lines = text.split('\n');
  const header: Record<string, string> = {};
  let i = 0;
  for (; i < lines.length; i++) {
    const match = /^# (command|container|exit): (.*)$/.exec(lines[i]);
    if (!match) break;
    header[match[1]] = match[2].trim();
  }
  if (!header.command) return undefined;
  const body = lines.slice(i).join('\n');
  const split = body.indexOf(STDERR_MARK);
  const exitCode = Number(header.exit ?? '0');
  return {
    command: normalizeCommand(header.command),
    container: header.container,
    exitCode: Number.isInteger(exitCode) ? exitCode : 0,
    stdout: split < 0 ? body : body.slice(0, split),
    stderr: split < 0 ? '' : body.slice(split + STDERR_MARK.length),
  };
}

export function formatRecordedProbe(probe: RecordedProbe): string {
  const header = [`# command: ${probe.command}`, ...(probe.container ? [`# container: ${probe.container}`] : []), `# exit: ${probe.exitCode}`];
  return `${header.join('\n')}\n${probe.stdout}${probe.stderr ? `${probe.stdout.endsWith('\n') || !probe.stdout ? '' : '\n'}${STDERR_MARK}${probe.stderr}` : ''}`;
}

export function normalizeCommand(command: string | readonly string[]): string {
  return (typeof command === 'string' ? command : command.join(' ')).trim().split(/\s+/).join(' ');
}
