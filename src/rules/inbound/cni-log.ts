/**
 * The part of an istio-cni node agent's log that holds one pod's iptables
 * rules. With the CNI plugin (no istio-init container) the rules are written
 * by the plugin on the node and logged by the node agent (pods of DaemonSet
 * istio-cni-node), one pod after another, each section naming its pod. The
 * section starts at the last line that names the pod and ends at the COMMIT
 * that closes the first nat table after it (plus an iptables-save dump that
 * directly follows, when the agent logs one); the nat-table parser does the rest.
 */
export function cniLogSection(log: string, podName: string, namespace?: string): string | undefined {
  const lines = log.split(/\r?\n/);
  const names = (l: string) => l.includes(podName) && (namespace === undefined || l.includes(namespace) || !/\bnamespace\b|\bns=/.test(l));
  let start = -1;
  for (let i = lines.length - 1; i >= 0; i--) {
    if (names(lines[i]!)) {
      // The last mention that is followed by a nat table.
      if (lines.slice(i).some((l) => /\*\s?nat\s*$/.test(l))) {
        start = i;
        break;
      }
    }
  }
  if (start < 0) return undefined;
  let end = lines.length;
  let inNat = false;
  let commits = 0;
  for (let i = start; i < lines.length; i++) {
    const l = lines[i]!;
    if (/\*\s?nat\s*$/.test(l)) inNat = true;
    else if (/\*\s?[a-z]+\s*$/.test(l)) inNat = false;
    if (inNat && /COMMIT\s*$/.test(l)) {
      commits++;
      inNat = false;
      // An iptables-save dump right after the restore input belongs to the same pod; stop at the next section otherwise.
      let next = false;
      for (const n of lines.slice(i + 1, i + 6)) {
        if (/cmdAdd|\bpod[=:]|\*\s?nat\s*$/.test(n) && !/iptables-save/.test(n)) break; // the next pod's section
        if (/iptables-save|Command output:/.test(n)) {
          next = true;
          break;
        }
      }
      if (!next || commits >= 2) {
        end = i + 1;
        break;
      }
    }
  }
  return lines.slice(start, end).join('\n');
}
