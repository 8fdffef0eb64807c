import { expect } from 'chai';
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { accessLogging } from '../../../src/model/envoy/access-logging.js';
import { parseConfigDump } from '../../../src/model/envoy/config-dump.js';
import { CUSTOM_ACCESS_FORMAT, withCustomAccessFormat } from '../../support/access-format.js';
import { REPO_ROOT, SHARED_DATA } from '../../support/cli.js';

const dumpAt = (file: string) => parseConfigDump(readFileSync(file, 'utf8'), file);
const LAB_DUMP = path.join(REPO_ROOT, 'test/fixtures/certs/lab-mtls/proxies/foo/sleep-5b597748b4-77kj5/config_dump');

describe('accessLogging: does the proxy write an access log where kubectl logs reads it', () => {
  it("Istio's generator with the default mesh config (no accessLogFile): no access_log on any listener", () => {
    const scenario = path.join(REPO_ROOT, 'test/scenarios/seed001-inbound-original-dst/snapshot/proxies/default/app-5f7b9c6d8-q7w2e/config_dump?include_eds');
    expect(accessLogging(dumpAt(scenario))).to.deep.equal({ toContainerLog: false, sinks: [], customFormats: [] });
  });

  it("the mesh lab's real Envoy 1.40 (accessLogFile: /dev/stdout): a file logger to /dev/stdout", () => {
    const lab = path.join(REPO_ROOT, 'test/fixtures/certs/lab-mtls/proxies/foo/sleep-5b597748b4-77kj5/config_dump');
    expect(accessLogging(dumpAt(lab))).to.deep.equal({ toContainerLog: true, sinks: ['/dev/stdout'], customFormats: [] });
  });

  it('a custom meshConfig.accessLogFormat: named, since its lines are not the layout mesh-doctor reads', () => {
    const dump = parseConfigDump(withCustomAccessFormat(readFileSync(LAB_DUMP, 'utf8')), 'custom');
    expect(accessLogging(dump)).to.deep.equal({ toContainerLog: true, sinks: ['/dev/stdout'], customFormats: [CUSTOM_ACCESS_FORMAT] });
  });

  describe('real config dumps (../shared/data/real-config-dumps)', () => {
    for (const [file, toContainerLog] of [['istio-1.9.1-productpage.config_dump.json', true], ['istio-1.20.8-hello-openshift.config_dump.json', false]] as const) {
      it(`${file}: ${toContainerLog ? 'logs to the container' : 'logs no access'}`, function () {
        const p = path.join(SHARED_DATA, 'real-config-dumps', file);
        if (!existsSync(p)) {
          console.log(`      skipped: ${p} is not there (the real dumps live beside the project, in ../shared/data)`);
          this.skip();
        }
        expect(accessLogging(dumpAt(p))).to.include({ toContainerLog });
        // Istio 1.9's format (log_format.text_format) is its default layout.
        expect(accessLogging(dumpAt(p)).customFormats).to.deep.equal([]);
      });
    }
  });
});
