/**
 * Input lines of a nat table as people paste them: undo log wrapping (JSON log lines,
 * timestamps, log levels, kubectl prefixes), keeping the original line numbers.
 */


export interface Line {
  /** 1-based line number in the original input. */
  n: number;
  text: string;
}

const TS_PREFIX_RE = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(?:\.\d+)?(?:Z|[+-]\d{2}:?\d{2})?\s+/;
const LEVEL_PREFIX_RE = /^(?:debug|info|warn|warning|error|fatal)\s+/i;
const KUBECTL_PREFIX_RE = /^\[pod\/[^\]\s]+\]\s/;

export function logicalLines(text: string): Line[] {
  const out: Line[] = [];
  const raw = text.split(/\r?\n/);
  for (let i = 0; i < raw.length; i++) {
    let t = raw[i]!;
    t = t.replace(KUBECTL_PREFIX_RE, '');
    const trimmed = t.trim();
    // istio's logger with --log_as_json: one JSON object per line, the message (with newlines) in "msg".
    if (trimmed.startsWith('{') && trimmed.endsWith('}')) {
      const msg = jsonMessage(trimmed);
      if (msg !== undefined) {
        for (const m of msg.split(/\r?\n/)) out.push({ n: i + 1, text: stripLogPrefix(m) });
        continue;
      }
    }
    out.push({ n: i + 1, text: stripLogPrefix(t) });
  }
  return out;
}

function jsonMessage(s: string): string | undefined {
  try {
    const v: unknown = JSON.parse(s);
    if (v && typeof v === 'object' && typeof (v as { msg?: unknown }).msg === 'string') return (v as { msg: string }).msg;
  } catch {
    // not JSON: an ordinary line that happens to start with '{'
  }
  return undefined;
}

function stripLogPrefix(t: string): string {
  let s = t.replace(KUBECTL_PREFIX_RE, '');
  if (TS_PREFIX_RE.test(s)) {
    s = s.replace(TS_PREFIX_RE, '');
    s = s.replace(LEVEL_PREFIX_RE, '');
  }
  return s.replace(/\s+$/, '');
}
