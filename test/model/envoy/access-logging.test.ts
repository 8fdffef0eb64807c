import { expect } from 'chai';
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { accessLogging } from '../../../src/model/envoy/access-logging.js';
import { parseConfigDump } from '../../../src/model/envoy/config-dump.js';
import { REPO_ROOT, SHARED_DATA } from '../../support/cli.js';

const dumpAt = (file: string) => parseConfigDump(readFileSync(file, 'utf8'), file);

describe('accessLogging: does the proxy write an access log where kubectl logs reads it', () => {
  it("Istio's generator with the default mesh config (no accessLogFile): no access_log on any listener", () => {
    const scenario = path.join(REPO_ROOT, 'test/scenarios/seed001-inbound-original-dst/snapshot/proxies/default/app-5f7b9c6d8-q7w2e/config_dump?include_eds');
    expect(accessLogging(dumpAt(scenario))).to.deep.equal({ toContainerLog: false, sinks: [] });
  });

  it("the mesh lab's real Envoy 1.40 (accessLogFile: /dev/stdout): a file logger to /dev/stdout", () => {
    const lab = path.join(REPO_ROOT, 'test/fixtures/certs/lab-mtls/proxies/foo/sleep-5b597748b4-77kj5/config_dump');
    expect(accessLogging(dumpAt(lab))).to.deep.equal({ toContainerLog: true, sinks: ['/dev/stdout'] });
  });

  describe('real config dumps (../shared/data/real-config-dumps)', () => {
    for (const [file, toContainerLog] of [['istio-1.9.1-productpage.config_dump.json', true], ['istio-1.20.8-hello-openshift.config_dump.json', false]] as const) {
      it(`${file}: ${toContainerLog ? 'logs to the container' : 'logs no access'}`, function () {
        const p = path.join(SHARED_DATA, 'real-config-dumps', file);
        if (!existsSync(p)) {
          console.log(`      skipped: ${p} is not there (the real dumps live beside the project, in ../shared/data)`);
          this.skip();
        }
        expect(accessLogging(dumpAt(p)).toContainerLog).to.equal(toContainerLog);
      });
    }
  });
});
