import { expect } from 'chai';
import { resolveTargetPort, selectsPod, serviceView, servicesSelecting } from '../../../src/model/istio/services.js';
import { podView } from '../../../src/model/k8s/pods.js';
import { fixture, resources } from './support.js';

describe('istio/services', () => {
  it('reads seed 000\'s Service: host, clusterIP, port 443 named http -> HTTP, targetPort 5000', () => {
    const set = resources(fixture('seed000-service-http-443.yaml'));
    const svc = serviceView(set.of('Service')[0]);
    expect(svc.host).to.equal('my-app.default.svc.cluster.local');
    expect(svc.clusterIPs).to.deep.equal(['10.96.0.43']);
    expect(svc.ports).to.have.length(1);
    expect(svc.ports[0]).to.include({ name: 'http', port: 443, targetPort: 5000, transport: 'TCP' });
    expect(svc.ports[0].protocol).to.include({ protocol: 'HTTP', from: 'name' });
    expect(svc.selector).to.deep.equal({ app: 'my-app' });
    expect(svc.exportTo).to.equal(undefined);
  });

  it('reads the exportTo annotation and headless services', () => {
    const svc = serviceView({
      apiVersion: 'v1', kind: 'Service',
      metadata: { name: 'db', namespace: 'data', annotations: { 'networking.istio.io/exportTo': '., istio-system' } },
      spec: { clusterIP: 'None', ports: [{ port: 5432 }] },
    });
    expect(svc.exportTo).to.deep.equal(['.', 'istio-system']);
    expect(svc.headless).to.equal(true);
    expect(svc.clusterIPs).to.deep.equal([]);
  });

  const pod = {
    apiVersion: 'v1', kind: 'Pod',
    metadata: { name: 'my-app-1', namespace: 'default', labels: { app: 'my-app', version: 'v1' } },
    spec: { containers: [{ name: 'app', ports: [{ name: 'web', containerPort: 5000 }] }, { name: 'istio-proxy' }] },
  };

  it('selects pods by namespace and label subset', () => {
    const set = resources(fixture('seed000-service-http-443.yaml'));
    const svc = serviceView(set.of('Service')[0]);
    expect(selectsPod(svc, pod)).to.equal(true);
    expect(selectsPod(svc, podView(pod))).to.equal(true);
    expect(selectsPod(svc, { ...pod, metadata: { ...pod.metadata, namespace: 'other' } })).to.equal(false);
    expect(selectsPod(svc, { ...pod, metadata: { ...pod.metadata, labels: { app: 'else' } } })).to.equal(false);
    expect(servicesSelecting(set, pod).map((s) => s.name)).to.deep.equal(['my-app']);
  });

  it('a Service without selector selects nothing', () => {
    const svc = serviceView({ apiVersion: 'v1', kind: 'Service', metadata: { name: 'manual', namespace: 'default' }, spec: { ports: [{ port: 80 }] } });
    expect(selectsPod(svc, pod)).to.equal(false);
  });

  it('resolves numeric and named targetPorts against container ports', () => {
    const numeric = serviceView({ apiVersion: 'v1', kind: 'Service', metadata: { name: 's', namespace: 'default' }, spec: { ports: [{ port: 443, targetPort: 5000 }, { port: 80, targetPort: 9999 }, { port: 81, targetPort: 'web' }, { port: 82, targetPort: 'nope' }, { port: 5000 }] } });
    const [a, b, c, d, e] = numeric.ports.map((p) => resolveTargetPort(p, pod));
    expect(a).to.include({ port: 5000, container: 'app', resolved: true });
    expect(b).to.include({ port: 9999, resolved: true });
    expect(b.container).to.equal(undefined);
    expect(c).to.include({ port: 5000, container: 'app', resolved: true });
    expect(d.resolved).to.equal(false);
    expect(d.because).to.match(/matches no container port name/);
    expect(e).to.include({ port: 5000, resolved: true });
  });
});
