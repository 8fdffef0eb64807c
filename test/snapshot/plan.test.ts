import { expect } from 'chai';
import fc from 'fast-check';
import { MeshDoctorError } from '../../src/errors.js';
import { podView } from '../../src/model/k8s/pods.js';
import { isIstioObject, keepConfigMap, labelSelector, podFiles, selectPods } from '../../src/snapshot/plan.js';
import { defaultOut, resolveTarget } from '../../src/snapshot/writer.js';
import { pod } from './fake-source.js';

describe('snapshot plan', () => {
  describe('label selectors (as kubectl -l reads them)', () => {
    const labels = { app: 'web', version: 'v1', 'app.kubernetes.io/part-of': 'shop' };
    const table: Array<[string, boolean]> = [
      ['app=web', true],
      ['app==web', true],
      ['app=api', false],
      ['app!=api', true],
      ['app=web,version=v2', false],
      ['app=web, version=v1', true],
      ['version in (v1,v2)', true],
      ['version notin (v1)', false],
      ['missing notin (v1)', true],
      ['app', true],
      ['!app', false],
      ['!missing', true],
      ['app.kubernetes.io/part-of=shop', true],
      ['', true],
    ];
    for (const [selector, expected] of table) {
      it(`${JSON.stringify(selector)} -> ${expected}`, () => {
        expect(labelSelector(selector)(labels)).to.equal(expected);
      });
    }

    it('refuses what it cannot read with a usage error', () => {
      for (const bad of ['app=(x', 'a b c', '=web', 'app in x']) {
        expect(() => labelSelector(bad), bad).to.throw(MeshDoctorError).with.property('exitCode', 2);
      }
    });

    it('never throws anything but a usage error', () => {
      fc.assert(fc.property(fc.string({ maxLength: 40 }), (selector) => {
        try {
          labelSelector(selector)({ a: 'b' });
        } catch (error) {
          expect(error).to.be.instanceOf(MeshDoctorError);
          expect((error as MeshDoctorError).kind).to.equal('usage');
        }
      }), { numRuns: 500 });
    });
  });

  it('selects pods with a sidecar in the namespaces, sorted', () => {
    const pods = [pod('foo', 'b-1'), pod('foo', 'a-1'), pod('bar', 'c-1'), pod('foo', 'plain-1', { sidecar: false })].map(podView);
    expect(selectPods(pods, { namespaces: ['foo'] }).map((p) => p.name)).to.deep.equal(['a-1', 'b-1']);
    expect(selectPods(pods, { namespaces: 'all' }).map((p) => p.name)).to.deep.equal(['c-1', 'a-1', 'b-1']);
    expect(selectPods(pods, { namespaces: 'all', selector: 'app=b' }).map((p) => p.name)).to.deep.equal(['b-1']);
  });

  it('plans the files of a pod: server_info first, istio-init.log only with that init container', () => {
    const withInit = podFiles({ initContainers: ['istio-init'] }).map((f) => f.file);
    expect(withInit).to.deep.equal(['server_info', 'config_dump', 'clusters', 'clusters.json', 'listeners', 'certs', 'stats/prometheus', 'memory', 'runtime', 'logging', 'netstat', 'istio-proxy.log', 'istio-init.log']);
    expect(podFiles({ initContainers: ['istio-validation'] }).map((f) => f.file)).not.to.include('istio-init.log');
  });

  it('tells Istio objects from the others', () => {
    expect(isIstioObject({ apiVersion: 'networking.istio.io/v1' })).to.equal(true);
    expect(isIstioObject({ apiVersion: 'security.istio.io/v1beta1' })).to.equal(true);
    expect(isIstioObject({ apiVersion: 'v1' })).to.equal(false);
    expect(isIstioObject({ apiVersion: 'apps/v1' })).to.equal(false);
  });

  it('keeps ConfigMaps in scope and Istio\'s anywhere', () => {
    const cm = (namespace: string, name: string) => ({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { namespace, name } });
    const scope = new Set(['foo']);
    expect(keepConfigMap(cm('foo', 'anything'), scope)).to.equal(true);
    expect(keepConfigMap(cm('istio-system', 'istio'), scope)).to.equal(true);
    expect(keepConfigMap(cm('istio-system', 'istio-sidecar-injector'), scope)).to.equal(true);
    expect(keepConfigMap(cm('kube-system', 'coredns'), scope)).to.equal(true);
    expect(keepConfigMap(cm('payments', 'settings'), scope)).to.equal(false);
    expect(keepConfigMap(cm('payments', 'settings'), 'all')).to.equal(true);
  });

  it('reads --out: a directory, or an archive by its suffix', () => {
    expect(resolveTarget('out/snap')).to.include({ format: 'directory' });
    expect(resolveTarget('x.tar.gz')).to.include({ format: 'archive' });
    expect(resolveTarget('x.TGZ')).to.include({ format: 'archive' });
    expect(defaultOut(new Date('2026-01-02T03:04:05.678Z'))).to.equal('mesh-doctor-snapshot-20260102T030405Z.tar.gz');
  });
  it('writes only file names Windows can hold (no ? * : < > | " \\), and the config dump as bug-report names it', () => {
    const files = podFiles({ initContainers: ['istio-init'] }).map((f) => f.file);
    for (const file of files) expect(file, file).to.not.match(/[?*:<>|"\\]/);
    expect(files).to.include('config_dump');
  });
});
