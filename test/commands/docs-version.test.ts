import { expect } from 'chai';
import { mkdtempSync, rmSync, writeFileSync, mkdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { CATALOG } from '../../src/findings/catalog.js';
import { jsonOf, REPO_ROOT, runCli } from '../support/cli.js';

describe('docs and version (kubectl conventions)', () => {
  it("docs MD1002 prints the finding's page", async () => {
    const r = await runCli(['docs', 'MD1002']);
    expect(r.exitCode, r.stderr).to.equal(0);
    expect(r.stdout.trim()).to.equal(readFileSync(path.join(REPO_ROOT, 'docs/findings/MD1002.md'), 'utf8').trim());
  });

  it('docs without a code lists every code of the catalog; -o json carries them', async () => {
    const r = await runCli(['docs', '-o', 'json']);
    expect(r.exitCode, r.stderr).to.equal(0);
    expect(jsonOf(r).data.catalog.map((e: { code: string }) => e.code)).to.deep.equal([...CATALOG.keys()]);
  });

  it('an unknown code is not found (exit 1) and says how to list the codes', async () => {
    const r = await runCli(['docs', 'MD9999']);
    expect(r.exitCode).to.equal(1);
    expect(r.stderr).to.contain('no finding code MD9999');
    expect(r.stderr).to.contain('kubectl mesh-doctor docs');
  });

  it("version names mesh-doctor, the kubectl client and each istiod's image version", async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'md-version-'));
    try {
      mkdirSync(path.join(dir, 'cluster'));
      // A Pod as `kubectl get pods -n istio-system -o yaml` shows istiod (label app=istiod, container discovery).
      writeFileSync(path.join(dir, 'cluster/k8s-resources'), [
        'apiVersion: v1', 'kind: Pod', 'metadata:', '  name: istiod-6c8d5b7f9-abcde', '  namespace: istio-system', '  labels:', '    app: istiod',
        'spec:', '  containers:', '  - name: discovery', '    image: docker.io/istio/pilot:1.24.2-distroless', '',
      ].join('\n'));
      const r = await runCli(['version', '--from', dir, '-o', 'json']);
      expect(r.exitCode, r.stderr).to.equal(0);
      const data = jsonOf(r).data;
      expect(data.meshDoctor).to.equal(JSON.parse(readFileSync(path.join(REPO_ROOT, 'package.json'), 'utf8')).version);
      expect(data.kubectlClient).to.be.a('string').and.not.equal('');
      expect(data.controlPlane).to.deep.equal([{ pod: 'istiod-6c8d5b7f9-abcde.istio-system', image: 'docker.io/istio/pilot:1.24.2-distroless', version: '1.24.2-distroless' }]);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('version without a reachable cluster still answers, saying why the control plane is unknown (exit 0)', async () => {
    const r = await runCli(['version', '--context', 'no-such-context', '-o', 'json']);
    expect(r.exitCode, r.stderr).to.equal(0);
    expect(jsonOf(r).data.controlPlaneUnknown).to.match(/context/);
  });

  it('help and usage name the plugin as users type it: kubectl mesh-doctor', async () => {
    const r = await runCli(['why-503', '--help']);
    expect(r.stdout).to.contain('$ kubectl mesh-doctor why-503');
    expect(r.stdout).to.not.contain('kubectl-mesh_doctor');
  });
});

describe('the single executable loads only the command it runs', () => {
  it('has a loader for every command of the command map, and no other', async () => {
    const { COMMAND_LOADERS } = await import('../../src/command-loaders.js');
    const { COMMANDS } = await import('../../src/commands.js');
    expect(Object.keys(COMMAND_LOADERS).sort()).to.deep.equal(Object.keys(COMMANDS).sort());
    for (const [id, load] of Object.entries(COMMAND_LOADERS)) expect((await load()).default, id).to.equal((COMMANDS as Record<string, unknown>)[id]);
  });
});
