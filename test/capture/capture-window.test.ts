import { expect } from 'chai';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { captureWithRaisedLevels, describeRestore } from '../../src/capture/capture-window.js';
import { restoreLogLevels, type EnvoyAdmin } from '../../src/capture/log-levels.js';
import { pendingRestores } from '../../src/capture/restore-journal.js';
import { MeshDoctorError } from '../../src/errors.js';
import { classifyFailure } from '../../src/sources/kubectl.js';
import type { PodRef } from '../../src/sources/source.js';
// The test cluster's Envoy emulator, kept apart from the product's parsers (see log-levels.test.ts).
import { pilotAgentRequest, ProxyState } from '../cluster/envoy-admin.js';

const CLIENT: PodRef = { namespace: 'foo', name: 'sleep-1' };
const SERVER: PodRef = { namespace: 'foo', name: 'httpbin-1' };

/** Two emulated sidecars behind one EnvoyAdmin; `forbid` makes every POST to one pod fail like RBAC would. */
function fakeMesh(options: { forbid?: string } = {}) {
  const states = new Map<string, ProxyState>([[CLIENT.name, new ProxyState(undefined)], [SERVER.name, new ProxyState(undefined)]]);
  const calls: string[] = [];
  const admin: EnvoyAdmin = {
    async admin(ref, method, adminPath) {
      calls.push(`${ref.name} ${method} ${adminPath}`);
      if (options.forbid === ref.name && adminPath.startsWith('logging?')) {
        throw new MeshDoctorError('forbidden', `pods "${ref.name}" is forbidden: cannot create pods/exec`);
      }
      const result = pilotAgentRequest({ dir: undefined, rel: `proxies/foo/${ref.name}`, state: states.get(ref.name)! }, [method, adminPath]);
      if (result.exitCode !== 0) throw classifyFailure(`pilot-agent request ${method} ${adminPath}`, result);
      return { text: result.stdout, source: `pilot-agent request ${method} ${adminPath}` };
    },
  };
  return { states, calls, admin };
}

describe('capture window: raise on several sidecars, always restore', () => {
  let stateDir: string;
  beforeEach(async () => {
    stateDir = await mkdtemp(path.join(tmpdir(), 'md-capture-'));
    process.env.MESH_DOCTOR_STATE_DIR = stateDir;
  });
  afterEach(async () => {
    delete process.env.MESH_DOCTOR_STATE_DIR;
    await rm(stateDir, { recursive: true, force: true });
  });

  it('raises both sidecars before `during`, and puts every logger of each back as it was', async () => {
    const mesh = fakeMesh();
    mesh.states.get(SERVER.name)!.levels = mesh.states.get(SERVER.name)!.levels.map(([n, l]) => [n, n === 'rbac' ? 'info' : l]);
    const before = [...mesh.states.values()].map((s) => s.current());
    const announced: string[] = [];
    const result = await captureWithRaisedLevels(mesh.admin, [CLIENT, SERVER], {
      loggers: ['connection', 'conn_handler', 'no_such_logger'],
      level: 'trace',
      announce: (m) => announced.push(m),
      during: async () => [...mesh.states.values()].map((s) => s.current().connection),
    });
    expect(result.outcome).to.deep.equal(['trace', 'trace']);
    expect([...mesh.states.values()].map((s) => s.current())).to.deep.equal(before);
    expect(announced).to.have.length(2);
    expect(result.pods.map((p) => [p.pod.name, p.raised, p.skipped, p.outcome?.status])).to.deep.equal([
      ['sleep-1', ['connection', 'conn_handler'], ['no_such_logger'], 'restored'],
      ['httpbin-1', ['connection', 'conn_handler'], ['no_such_logger'], 'restored'],
    ]);
    expect(describeRestore(result.pods[0])).to.match(/^sleep-1\.foo: every logger back to its saved level \(\d+ loggers, verified from Envoy's reply\)$/);
    expect(Date.parse(result.since)).to.be.lessThan(Date.now());
    expect(await pendingRestores()).to.deep.equal([]);
  });

  it('restores when `during` fails, and reports the failure', async () => {
    const mesh = fakeMesh();
    const before = [...mesh.states.values()].map((s) => s.current());
    const result = await captureWithRaisedLevels(mesh.admin, [CLIENT, SERVER], {
      loggers: ['connection'],
      level: 'debug',
      announce: () => {},
      during: async () => { throw new Error('kubectl exec failed'); },
    });
    expect(result.error).to.equal('kubectl exec failed');
    expect([...mesh.states.values()].map((s) => s.current())).to.deep.equal(before);
  });

  it('when the second sidecar refuses, the first is put back before the error surfaces', async () => {
    const mesh = fakeMesh({ forbid: SERVER.name });
    const before = mesh.states.get(CLIENT.name)!.current();
    let error: unknown;
    try {
      await captureWithRaisedLevels(mesh.admin, [CLIENT, SERVER], { loggers: ['connection'], level: 'debug', announce: () => {}, during: async () => 'never' });
    } catch (e) {
      error = e;
    }
    expect((error as MeshDoctorError).kind).to.equal('forbidden');
    expect(mesh.states.get(CLIENT.name)!.current()).to.deep.equal(before);
    expect(await pendingRestores()).to.deep.equal([]);
  });

  it('notices a restart even when the capture outlasted the uptime the proxy had when the levels were saved', async () => {
    // Saved 30 s ago when Envoy had been up 1 s; Envoy restarted 10 s ago. Its uptime (10 s) is not
    // lower than the saved one (1 s), but it started 20 s after the save: writing now would clobber.
    const mesh = fakeMesh();
    const state = mesh.states.get(SERVER.name)!;
    state.restart(Date.now() - 10_000);
    const entry = { version: 1 as const, pod: SERVER, levels: { ...state.current(), connection: 'warning' as const }, uptimeSeconds: 1, savedAt: new Date(Date.now() - 30_000).toISOString() };
    const outcome = await restoreLogLevels(mesh.admin, entry);
    expect(outcome.status).to.equal('proxy-restarted');
    expect(mesh.calls.filter((c) => c.includes('logging?'))).to.deep.equal([]);
  });

  it('does not mistake a long-running proxy for a restarted one', async () => {
    const mesh = fakeMesh();
    const state = mesh.states.get(SERVER.name)!;
    state.startedAt = Date.now() - 3_600_000;
    const levels = state.current();
    state.levels = state.levels.map(([n, l]) => [n, n === 'connection' ? 'debug' : l]);
    const entry = { version: 1 as const, pod: SERVER, levels: levels as Record<string, 'warning'>, uptimeSeconds: 3_570, savedAt: new Date(Date.now() - 30_000).toISOString() };
    const outcome = await restoreLogLevels(mesh.admin, entry);
    expect(outcome.status).to.equal('restored');
    expect(state.current()).to.deep.equal(levels);
  });
});
