import { expect } from 'chai';
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { raiseLogLevels, restoreLogLevels, type EnvoyAdmin } from '../../src/capture/log-levels.js';
import { pendingRestores } from '../../src/capture/restore-journal.js';
import { runCleanups } from '../../src/lifecycle.js';
import { classifyFailure } from '../../src/sources/kubectl.js';
import type { PodRef } from '../../src/sources/source.js';
// The test cluster's Envoy emulator follows Envoy's logs_handler.cc (see its header); it is kept
// apart from the product's parser on purpose, so a bug in one cannot hide in the other.
import { pilotAgentRequest, ProxyState } from '../cluster/envoy-admin.js';

const pod: PodRef = { namespace: 'foo', name: 'httpbin-1' };

/** An EnvoyAdmin that runs `pilot-agent request` against the emulator and records every call. */
function fakeEnvoy(options: { noPaths?: boolean } = {}) {
  const state = new ProxyState(undefined);
  const calls: string[] = [];
  const admin: EnvoyAdmin = {
    async admin(_ref, method, adminPath) {
      calls.push(`${method} ${adminPath}`);
      // Envoy < 1.22 has no `paths=`: it reads it as a logger named "paths" and answers 400.
      const effective = options.noPaths && adminPath.startsWith('logging?paths=') ? 'logging?paths=x' : adminPath;
      const result = pilotAgentRequest({ dir: undefined, rel: 'proxies/foo/httpbin-1', state }, [method, effective]);
      if (result.exitCode !== 0) throw classifyFailure(`pilot-agent request ${method} ${adminPath}`, result);
      return { text: result.stdout, source: `pilot-agent request ${method} ${adminPath}` };
    },
  };
  return { state, calls, admin };
}

describe('Envoy log levels: raise, then restore exactly', () => {
  let stateDir: string;
  beforeEach(async () => {
    stateDir = await mkdtemp(path.join(tmpdir(), 'md-state-'));
    process.env.MESH_DOCTOR_STATE_DIR = stateDir;
  });
  afterEach(async () => {
    delete process.env.MESH_DOCTOR_STATE_DIR;
    await rm(stateDir, { recursive: true, force: true });
  });

  it('puts every logger back to its own previous level, not one level for all', async () => {
    const envoy = fakeEnvoy();
    // Per-logger levels an operator set by hand: `istioctl proxy-config log -r` would lose these.
    envoy.state.levels = envoy.state.levels.map(([n, l]) => [n, n === 'http' ? 'debug' : n === 'rbac' ? 'info' : l]);
    const before = envoy.state.current();
    const raised = await raiseLogLevels(envoy.admin, pod, { loggers: ['connection', 'conn_handler', 'http'], level: 'debug', announce: () => {} });
    expect(envoy.state.current().connection).to.equal('debug');
    expect(envoy.state.current().conn_handler).to.equal('debug');
    const outcome = await raised.restore();
    expect(outcome).to.deep.equal({ status: 'restored', loggers: Object.keys(before).length });
    expect(envoy.state.current()).to.deep.equal(before);
  });

  it('announces before changing anything, and records the pending restore before the change', async () => {
    const envoy = fakeEnvoy();
    const events: string[] = [];
    const raised = await raiseLogLevels(envoy.admin, pod, {
      loggers: ['connection'], level: 'trace',
      announce: (message) => events.push(`announce: ${message}; calls so far: ${envoy.calls.filter((c) => c.includes('paths')).length}`),
    });
    expect(events).to.have.length(1);
    expect(events[0]).to.match(/Raising Envoy loggers connection to trace on httpbin-1\.foo.*calls so far: 0$/);
    const pending = await pendingRestores();
    expect(pending.map((p) => p.entry.pod)).to.deep.equal([pod]);
    expect(pending[0].entry.levels.connection).to.equal('warning');
    await raised.restore();
    expect(await pendingRestores()).to.deep.equal([]);
  });

  it('skips loggers this Envoy build does not have instead of failing the all-or-nothing call', async () => {
    const envoy = fakeEnvoy();
    const raised = await raiseLogLevels(envoy.admin, pod, { loggers: ['connection', 'no_such_logger'], level: 'debug', announce: () => {} });
    expect(raised.raised).to.deep.equal(['connection']);
    expect(raised.skipped).to.deep.equal(['no_such_logger']);
    expect(envoy.calls).to.include('POST logging?paths=connection:debug');
    await raised.restore();
  });

  it('restores through the registered cleanup when the run is interrupted', async () => {
    const envoy = fakeEnvoy();
    const before = envoy.state.current();
    await raiseLogLevels(envoy.admin, pod, { loggers: ['pool', 'router'], level: 'debug', announce: () => {} });
    expect(envoy.state.current().pool).to.equal('debug');
    await runCleanups(); // what SIGINT/SIGTERM and every error path run
    expect(envoy.state.current()).to.deep.equal(before);
    expect(await pendingRestores()).to.deep.equal([]);
  });

  it('finishes a restore from the journal after a hard kill (a new process, same pending entry)', async () => {
    const envoy = fakeEnvoy();
    const before = envoy.state.current();
    await raiseLogLevels(envoy.admin, pod, { loggers: ['filter'], level: 'trace', announce: () => {} });
    // kill -9: no cleanup ran; the next run reads the journal.
    const [pending] = await pendingRestores();
    const outcome = await restoreLogLevels(envoy.admin, pending.entry);
    expect(outcome.status).to.equal('restored');
    expect(envoy.state.current()).to.deep.equal(before);
    await runCleanups(); // the in-process cleanup finds nothing left to do
    expect(envoy.state.current()).to.deep.equal(before);
  });

  it('leaves a restarted proxy alone: its levels are already its bootstrap levels', async () => {
    const envoy = fakeEnvoy();
    envoy.state.baseUptimeSeconds = 600;
    const raised = await raiseLogLevels(envoy.admin, pod, { loggers: ['connection'], level: 'debug', announce: () => {} });
    envoy.state.restart();
    const postsAfterRestart = envoy.calls.length;
    const outcome = await raised.restore();
    expect(outcome.status).to.equal('proxy-restarted');
    expect(envoy.calls.slice(postsAfterRestart).filter((c) => c.startsWith('POST logging?'))).to.deep.equal([]);
    expect(envoy.state.current().connection).to.equal('warning');
    expect(await pendingRestores()).to.deep.equal([]);
  });

  it('falls back to one call per logger on Envoys without paths= (< 1.22), still exact', async () => {
    const envoy = fakeEnvoy({ noPaths: true });
    envoy.state.levels = envoy.state.levels.map(([n, l]) => [n, n === 'http' ? 'info' : l]);
    const before = envoy.state.current();
    const raised = await raiseLogLevels(envoy.admin, pod, { loggers: ['connection', 'http'], level: 'debug', announce: () => {} });
    expect(envoy.state.current().connection).to.equal('debug');
    expect(envoy.calls).to.include('POST logging?connection=debug');
    await raised.restore();
    expect(envoy.state.current()).to.deep.equal(before);
  });

  it('does nothing when the levels are already as saved', async () => {
    const envoy = fakeEnvoy();
    const raised = await raiseLogLevels(envoy.admin, pod, { loggers: [], level: 'debug', announce: () => { throw new Error('must not announce'); } });
    expect(await raised.restore()).to.deep.equal({ status: 'unchanged' });
    expect(envoy.calls.filter((c) => c.startsWith('POST logging?'))).to.deep.equal([]);
    expect(await readdir(path.join(stateDir, 'pending-restores'))).to.deep.equal([]);
  });
});
