// CLI: serve a snapshot directory as a cluster until Ctrl-C.
//   node --import tsx test/cluster/main.ts <snapshot-dir>   (npm run test-cluster -- <dir>)
import {startTestCluster} from './server.js';

const dir = process.argv[2];
if (!dir || dir === '-h' || dir === '--help') {
  process.stderr.write('usage: node --import tsx test/cluster/main.ts <snapshot-dir>\n');
  process.exit(dir ? 0 : 2);
}
const cluster = await startTestCluster({snapshotDir: dir});
for (const w of cluster.warnings) process.stderr.write(`warning: ${w}\n`);
process.stdout.write(`# mesh-doctor test cluster serving ${dir} at ${cluster.url}\n`);
process.stdout.write(`export KUBECONFIG=${cluster.kubeconfigPath}\n`);
process.stdout.write(`export KUBECACHEDIR=${cluster.env.KUBECACHEDIR}\n`);
let stopping = false;
const stop = async () => {
  if (stopping) return;
  stopping = true;
  const n = cluster.journal.entries.length;
  const m = cluster.journal.mutations().length;
  await cluster.stop();
  process.stderr.write(`\nstopped after ${n} requests (${m} mutations)\n`);
  process.exit(0);
};
process.on('SIGINT', stop);
process.on('SIGTERM', stop);
