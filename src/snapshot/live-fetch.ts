/**
 * Fetching for a capture from a live cluster without LiveSource's memo: a
 * diagnosis keeps each piece of evidence for the run (principle 4), but a
 * snapshot of a big mesh would then hold every config dump in memory until
 * the end. Each file is fetched once anyway, written, and dropped. Same
 * commands as LiveSource (the evidence is the same): `pilot-agent request`
 * for the admin API, `ss -ltnH` then `netstat -natpw` for sockets.
 */
import { PROXY_CONTAINER } from '../model/k8s/pods.js';
import type { LiveSource } from '../sources/live.js';
import { ADMIN_PATHS, type Evidence, type PodRef, type ProxyArtifact } from '../sources/source.js';
import type { ArtifactFetcher } from './capture.js';

export function liveFetcher(live: LiveSource): ArtifactFetcher {
  return {
    async proxy(ref: PodRef, artifact: ProxyArtifact): Promise<Evidence | undefined> {
      if (artifact === 'netstat') return sockets(live, ref);
      // The capture never asks for logging under --read-only.
      if (artifact === 'logging') return live.admin(ref, 'POST', 'logging');
      const path = ADMIN_PATHS[artifact];
      return path ? live.admin(ref, 'GET', path) : undefined;
    },
    containerLog: (ref, container) => live.containerLog(ref, container),
  };
}

async function sockets(live: LiveSource, ref: PodRef): Promise<Evidence | undefined> {
  for (const command of [['ss', '-ltnH'], ['netstat', '-natpw']]) {
    const args = ['exec', ref.name, '-n', ref.namespace, '-c', PROXY_CONTAINER, '--', ...command];
    const result = await live.kubectl.run(args, { allowFailure: true });
    if (result.exitCode === 0) return { text: result.stdout, source: live.kubectl.commandLine(args) };
  }
  return undefined;
}
