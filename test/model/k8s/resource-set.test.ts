import { expect } from 'chai';
import { serviceEntries } from '../../../src/model/istio/service-entry.js';
import { services } from '../../../src/model/istio/services.js';
import { parseKubeObjects, ResourceSet } from '../../../src/model/k8s/resources.js';

const YAML = `
apiVersion: v1
kind: Service
metadata: {name: httpbin, namespace: foo}
spec: {clusterIP: 10.0.0.1, selector: {app: httpbin}, ports: [{name: http, port: 8000}]}
---
apiVersion: networking.istio.io/v1
kind: ServiceEntry
metadata: {name: ext, namespace: foo}
spec: {hosts: [api.example], ports: [{number: 443, name: tls, protocol: TLS}], resolution: DNS}
`;

describe('ResourceSet views: Istio views built once per run and shared', () => {
  it('hands every caller the same view objects, in a list of its own', () => {
    const set = new ResourceSet(parseKubeObjects(YAML, 'test'));
    const first = services(set);
    const second = services(set);
    expect(second[0]).to.equal(first[0]);
    first.pop();
    expect(services(set)).to.have.length(1);
  });

  it('rebuilds after an object is added, and keys views by their options', () => {
    const set = new ResourceSet(parseKubeObjects(YAML, 'test'));
    const before = serviceEntries(set);
    set.add(parseKubeObjects(YAML.replace('name: ext', 'name: ext2'), 'test')[1]!);
    expect(serviceEntries(set).map((e) => e.name)).to.deep.equal(['ext', 'ext2']);
    expect(serviceEntries(set)[0]).to.not.equal(before[0]);
    expect(services(set, { domainSuffix: 'corp.local' })[0]!.hosts[0]).to.equal('httpbin.foo.svc.corp.local');
    expect(services(set)[0]!.hosts[0]).to.equal('httpbin.foo.svc.cluster.local');
  });
});
