import { expect } from 'chai';
import { painter } from '../../src/render/style.js';
import { parseVersionJson } from '../../src/snapshot/environment.js';
import type { SnapshotResult } from '../../src/snapshot/index.js';
import { recordedFlags, renderSnapshotData, snapshotReport, warningLines } from '../../src/snapshot/report.js';

const result: SnapshotResult = {
  target: { path: '/tmp/s.tar.gz', format: 'archive' },
  files: [],
  pods: [
    { namespace: 'foo', name: 'a', status: 'ok', files: ['server_info'], missing: [], unavailable: [] },
    { namespace: 'foo', name: 'b', status: 'partial', error: 'timeout', files: ['server_info'], missing: [{ file: 'memory', reason: 'timeout' }], unavailable: [] },
    { namespace: 'bar', name: 'c', status: 'failed', error: 'pod c.bar not found', files: [], missing: [{ file: 'server_info', reason: 'gone' }], unavailable: [] },
  ],
  istiod: [
    { namespace: 'istio-system', name: 'istiod-1', status: 'ok', file: 'proxies/istio-system/istiod-1/probes/syncz.txt' },
    { namespace: 'istio-system', name: 'istiod-2', status: 'failed', error: 'exited 1: Error: connection refused' },
  ],
  cluster: { files: { 'cluster/k8s-resources': 3 }, failed: [] },
  redactions: { jwt: 2 },
  warnings: ['could not list gateways.networking.istio.io: forbidden'],
};

describe('snapshot report', () => {
  it('is a normal report whose data is the per-pod capture summary', () => {
    const report = snapshotReport(result, { pods: [], namespaces: 'all' }, { mode: 'live', label: 'context kind' });
    expect(report).to.include({ schema: 'mesh-doctor.report/v1', command: 'snapshot', subject: 'all namespaces' });
    expect(report.verdict).to.deep.equal({ status: 'informational', summary: 'snapshot written to /tmp/s.tar.gz: 2 of 3 pods captured (1 partial, 1 failed)' });
    expect(report.data?.pods).to.equal(result.pods);
    expect(report.data).to.include({ out: '/tmp/s.tar.gz', format: 'archive' });
  });

  it('renders a table and a summary for people', () => {
    const text = renderSnapshotData(snapshotReport(result, { pods: [{ namespace: 'foo', name: 'a' }], namespaces: ['foo'] }, { mode: 'live', label: 'x' }), painter(false))!;
    const lines = text.split('\n');
    expect(lines[0]).to.match(/^NAMESPACE\s+POD\s+STATUS\s+FILES\s+NOTE$/);
    expect(lines).to.include('foo        b    partial  1      missing memory');
    expect(lines).to.include('bar        c    failed   0      pod c.bar not found');
    expect(text).to.contain('Redacted: 2 jwt');
    expect(lines).to.include('istiod istio-system/istiod-1: /debug/syncz recorded in proxies/istio-system/istiod-1/probes/syncz.txt');
    expect(lines).to.include('istiod istio-system/istiod-2: /debug/syncz not recorded (exited 1: Error: connection refused)');
    expect(text).to.contain('Read it offline: kubectl mesh-doctor <command> --from /tmp/s.tar.gz');
  });

  it('warns on stderr about what was not captured', () => {
    expect(warningLines(result)).to.deep.equal([
      'warning: could not list gateways.networking.istio.io: forbidden',
      'warning: 2 of 3 pods not fully captured (b.foo partial, c.bar failed); the reasons are in meta.json',
    ]);
  });

  it('records the flags that were given, nothing else', () => {
    expect(recordedFlags({ namespace: 'foo', force: false, 'read-only': true, output: 'json', json: false, concurrency: 8 }, ['a.foo'])).to.deep.equal({ namespace: 'foo', 'read-only': true, concurrency: 8, pods: ['a.foo'] });
  });

  it('reads kubectl version -o json, and nothing from garbage', () => {
    expect(parseVersionJson('{"clientVersion":{"gitVersion":"v1.32.4"},"serverVersion":{"gitVersion":"v1.31.0"}}')).to.deep.equal({ client: 'v1.32.4', server: 'v1.31.0' });
    expect(parseVersionJson('{"clientVersion":{"gitVersion":"v1.32.4"}}')).to.deep.equal({ client: 'v1.32.4' });
    expect(parseVersionJson('error: oops')).to.deep.equal({});
  });
});
