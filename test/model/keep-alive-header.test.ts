import { expect } from 'chai';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { keepAliveFromResponse } from '../../src/model/keep-alive-header.js';
import { parseRecordedProbe } from '../../src/sources/probes.js';
import { REPO_ROOT } from '../support/cli.js';

/**
 * The app's keep-alive as its response headers say it. The recordings are
 * real: `curl -sv` (7.88.1) against the mesh lab's echo app
 * (test/lab/apps/echo.mjs --keepalive-ms 1000, Node 20's http server, which
 * sends `Keep-Alive: timeout=1`), and the same app answering a request that
 * asked `Connection: close` (test/fixtures/why-503/keepalive-probe).
 */
const probe = (name: string) => parseRecordedProbe(readFileSync(path.join(REPO_ROOT, 'test/fixtures/why-503/keepalive-probe', name), 'utf8'))!;

describe('keepAliveFromResponse', () => {
  it("reads `Keep-Alive: timeout=1` from the echo app's real response", () => {
    expect(keepAliveFromResponse(probe('keepalive-1s.txt').stderr)).to.deep.equal({ ms: 1000, header: 'Keep-Alive: timeout=1' });
  });

  it('reads `Connection: close`: the app keeps no connection idle', () => {
    expect(keepAliveFromResponse(probe('connection-close.txt').stderr)).to.deep.equal({ ms: 0, header: 'Connection: close' });
  });

  it('no header about keep-alive: nothing (the response does not say)', () => {
    expect(keepAliveFromResponse('< HTTP/1.1 200 OK\n< content-length: 3\n<\n')).to.equal(undefined);
  });

  it('reads the last response of a redirect chain (curl -L prints each one)', () => {
    expect(keepAliveFromResponse('< HTTP/1.1 301 Moved\n< Keep-Alive: timeout=5\n<\n< HTTP/1.1 200 OK\n< keep-alive: timeout=2, max=100\n<\n')).to.deep.equal({ ms: 2000, header: 'keep-alive: timeout=2, max=100' });
  });
});
