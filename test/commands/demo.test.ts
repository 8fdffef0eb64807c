import { expect } from 'chai';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { jsonOf, REPO_ROOT, runCli } from '../support/cli.js';

const EXAMPLE = path.join(REPO_ROOT, 'examples/incident-4-catch-all-serviceentry');
const SCENARIO = path.join(REPO_ROOT, 'test/scenarios/seed003-sidecar-hides-external-se/snapshot');

function files(root: string, dir = ''): string[] {
  return readdirSync(path.join(root, dir)).flatMap((name) => {
    const relative = path.join(dir, name);
    return statSync(path.join(root, relative)).isDirectory() ? files(root, relative) : [relative];
  }).sort();
}

describe('demo', () => {
  it('diagnoses the bundled incident: the catch-all ServiceEntry is the culprit, in one screen, exit 0', async () => {
    const result = await runCli(['demo']);
    expect(result.exitCode, result.stderr).to.equal(0);
    expect(result.stdout).to.match(/^Incident 4: HTTPS from pod sample-c59f744df-8kq7m\.istio-demo to baidu\.com fails/);
    expect(result.stdout).to.contain('ERROR MD1002 A catch-all filter chain captures connections to this port\n  culprit:  ServiceEntry istio-demo/traefik-cutom-name');
    expect(result.stdout).to.contain('evidence: 0.0.0.0   443  ALL   Cluster: outbound|443||traefik.cutom-name');
    expect(result.stdout).to.match(/\nVerdict: Connections to baidu\.com:443 go to traefik\.cutom-name because ServiceEntry istio-demo\/traefik-cutom-name has no addresses/);
    expect(result.stdout.split('\n').length).to.be.below(60);
  });

  it('gives the same verdict as JSON, and --fail-on error turns it into exit 3', async () => {
    const result = await runCli(['demo', '--json', '--fail-on', 'error']);
    expect(result.exitCode).to.equal(3);
    const report = jsonOf(result);
    expect(report.findings[0]).to.deep.include({ code: 'MD1002', target: { kind: 'ServiceEntry', namespace: 'istio-demo', name: 'traefik-cutom-name' } });
  });

  it('bundles an unchanged copy of its oracle scenario', () => {
    expect(files(EXAMPLE)).to.deep.equal(files(SCENARIO));
    for (const file of files(SCENARIO)) {
      expect(readFileSync(path.join(EXAMPLE, file), 'utf8'), file).to.equal(readFileSync(path.join(SCENARIO, file), 'utf8'));
    }
  });
});
