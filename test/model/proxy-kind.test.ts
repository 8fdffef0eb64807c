import { expect } from 'chai';
import { proxyKindFromNodeId, proxyKindFromPod } from '../../src/model/proxy-kind.js';

/** Node types from istio pkg/model/proxy.go; pilot-agent args from Istio's injection templates. */
describe('proxy kind from the node id and the pod spec', () => {
  it('reads the node id type', () => {
    expect(proxyKindFromNodeId('sidecar~10.244.1.17~sample-c59f744df-8kq7m.istio-demo~istio-demo.svc.cluster.local')).to.equal('sidecar');
    expect(proxyKindFromNodeId('router~10.244.0.9~istio-ingressgateway-7d4f8b9c6-x2k4p.istio-system~istio-system.svc.cluster.local')).to.equal('router');
    expect(proxyKindFromNodeId('waypoint~10.244.0.12~waypoint-5b8c.default~default.svc.cluster.local')).to.equal('waypoint');
    expect(proxyKindFromNodeId('ztunnel~10.244.0.3~ztunnel-x7k2p.istio-system~istio-system.svc.cluster.local')).to.equal('ztunnel');
    expect(proxyKindFromNodeId('envoy-1')).to.equal(undefined);
    expect(proxyKindFromNodeId(undefined)).to.equal(undefined);
  });

  const pod = (containers: unknown[]) => ({ apiVersion: 'v1', kind: 'Pod', metadata: { name: 'p', namespace: 'n' }, spec: { containers } });
  it('reads pilot-agent\'s `proxy TYPE` argument; sidecar when it says none (pilot-agent\'s default)', () => {
    expect(proxyKindFromPod(pod([{ name: 'istio-proxy', args: ['proxy', 'router', '--domain', '$(POD_NAMESPACE).svc.cluster.local'] }]))).to.equal('router');
    expect(proxyKindFromPod(pod([{ name: 'istio-proxy', args: ['proxy', 'waypoint', '--domain', 'x'] }]))).to.equal('waypoint');
    expect(proxyKindFromPod(pod([{ name: 'app' }, { name: 'istio-proxy', args: ['proxy', 'sidecar', '--domain', 'x'] }]))).to.equal('sidecar');
    expect(proxyKindFromPod(pod([{ name: 'istio-proxy' }]))).to.equal('sidecar');
    expect(proxyKindFromPod(pod([{ name: 'istio-proxy', image: 'docker.io/istio/ztunnel:1.24.0' }]))).to.equal('ztunnel');
    expect(proxyKindFromPod(pod([{ name: 'app' }]))).to.equal(undefined);
  });
});
