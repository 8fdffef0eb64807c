import { expect } from 'chai';
import { imageIstioVersion, parseVersionsText, resolveMeshVersion } from '../../src/model/mesh-version.js';
import { ResourceSet, type KubeObject } from '../../src/model/k8s/resources.js';

// istioctl version (1.7's layout, which bug-report writes to its `versions` file), from the istioctl docs' sample output.
const ISTIOCTL_VERSION_174 = 'client version: 1.7.4\ncontrol plane version: 1.7.4\ndata plane version: 1.7.4 (4 proxies)\n';

function pod(image: string, name = 'sleep-7f'): KubeObject {
  return {
    apiVersion: 'v1', kind: 'Pod', metadata: { name, namespace: 'foo' },
    spec: { containers: [{ name: 'sleep', image: 'curlimages/curl' }, { name: 'istio-proxy', image }] },
  };
}

function istiod(image: string): KubeObject {
  return {
    apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name: 'istiod', namespace: 'istio-system', labels: { app: 'istiod' } },
    spec: { template: { spec: { containers: [{ name: 'discovery', image }] } } },
  };
}

describe('one Istio version for a run, from every source (resolveMeshVersion)', () => {
  it('reads the version from an image tag: plain, ASM, distroless, registry with a port; not from a digest or latest', () => {
    expect(imageIstioVersion('docker.io/istio/proxyv2:1.7.4')?.version).to.equal('1.7.4');
    const asm = imageIstioVersion('gcr.io/gke-release/asm/proxyv2:1.9.5-asm.2');
    expect([asm?.version, asm?.asm]).to.deep.equal(['1.9.5', true]);
    expect(imageIstioVersion('istio/proxyv2:1.20.8-distroless')?.version).to.equal('1.20.8');
    expect(imageIstioVersion('registry.local:5000/istio/proxyv2:1.18.2')?.version).to.equal('1.18.2');
    expect(imageIstioVersion('docker.io/istio/proxyv2@sha256:0123abcd')).to.equal(undefined);
    expect(imageIstioVersion('docker.io/istio/proxyv2:latest')).to.equal(undefined);
    // OpenShift Service Mesh tags the proxy with its own release: 2.6.7 is not an Istio version.
    expect(imageIstioVersion('registry.redhat.io/openshift-service-mesh/proxyv2-rhel8:2.6.7')).to.equal(undefined);
  });

  it('reads istioctl version and mesh-doctor\'s own versions file; ignores the client, kubectl and mesh-doctor versions', () => {
    expect(parseVersionsText(ISTIOCTL_VERSION_174)).to.deep.include({ controlPlane: '1.7.4', dataPlane: '1.7.4' });
    const ours = 'mesh-doctor version: 0.1.0\nkubectl client version: v1.32.0\nkubernetes server version: v1.30.2\ndata plane version: 1.20.8 (2 proxies)\nproxy foo/sleep: istio 1.20.8, envoy 1.28.4 (from server_info)\n';
    expect(parseVersionsText(ours)).to.deep.include({ dataPlane: '1.20.8' });
    expect(parseVersionsText('client version: 1.22.0\n')).to.deep.equal({});
    // The oracle's provenance text: the proxy's ISTIO_VERSION, not the module's pseudo-version.
    const oracle = 'istio.io/istio module: v0.0.0-20260827124520-eed52ebb66ad (VERSION file 1.31; ...)\nproxy ISTIO_VERSION (node metadata): 1.31-dev\n';
    expect(parseVersionsText(oracle).dataPlane).to.equal('1.31-dev');
    expect(parseVersionsText('hand-written fixture: proxy Istio 1.20.8').dataPlane).to.equal('1.20.8');
  });

  it('takes, in order: the proxy, the versions file, the pod\'s istio-proxy image, istiod\'s image — and says which', () => {
    const all = {
      proxy: { istio: '1.8.1', envoy: '1.16.2', from: 'config_dump of sleep-7f.foo (bootstrap node)' },
      versionsText: { text: ISTIOCTL_VERSION_174, from: 'versions' },
      pod: pod('docker.io/istio/proxyv2:1.7.3'),
      resources: new ResourceSet([istiod('docker.io/istio/pilot:1.7.2')]),
    };
    expect(resolveMeshVersion(all)).to.deep.include({ source: 'proxy', envoy: '1.16.2' });
    expect(resolveMeshVersion(all).istio?.version).to.equal('1.8.1');
    const { proxy: _p, ...noProxy } = all;
    expect(resolveMeshVersion(noProxy).source).to.equal('versions-file');
    expect(resolveMeshVersion(noProxy).istio?.version).to.equal('1.7.4');
    const { versionsText: _v, ...imageOnly } = noProxy;
    const fromImage = resolveMeshVersion(imageOnly);
    expect([fromImage.source, fromImage.istio?.version, fromImage.from]).to.deep.equal(['proxy-image', '1.7.3', 'image docker.io/istio/proxyv2:1.7.3 of pod foo/sleep-7f']);
    const fromIstiod = resolveMeshVersion({ resources: all.resources });
    expect([fromIstiod.source, fromIstiod.istio?.version]).to.deep.equal(['istiod-image', '1.7.2']);
    const none = resolveMeshVersion({});
    expect(none.source).to.equal('unknown');
    expect(none.istio).to.equal(undefined);
    expect(none.text).to.match(/unknown/);
  });

  it('a proxy without ISTIO_VERSION (Envoy only) still gives Envoy, and Istio from the next source', () => {
    const v = resolveMeshVersion({ proxy: { envoy: '1.15.0', from: 'server_info of a.b' }, versionsText: { text: ISTIOCTL_VERSION_174, from: 'versions' } });
    expect([v.source, v.istio?.version, v.envoy]).to.deep.equal(['versions-file', '1.7.4', '1.15.0']);
  });

  it('reports skew between the proxy and the control plane (istioctl version\'s control plane, else istiod\'s image)', () => {
    const skewed = resolveMeshVersion({ proxy: { istio: '1.7.4', from: 'server_info of sleep.foo' }, resources: new ResourceSet([istiod('docker.io/istio/pilot:1.9.0')]) });
    expect(skewed.skew).to.contain('1.7.4');
    expect(skewed.skew).to.contain('1.9.0');
    expect(skewed.controlPlane?.version).to.equal('1.9.0');
    const same = resolveMeshVersion({ proxy: { istio: '1.7.4', from: 'server_info' }, versionsText: { text: ISTIOCTL_VERSION_174, from: 'versions' } });
    expect(same.skew).to.equal(undefined);
  });
});
