import { expect } from 'chai';
import { serviceEntries, serviceEntryView } from '../../../src/model/istio/service-entry.js';
import { fixture, resources } from './support.js';

describe('istio/service-entry', () => {
  it('reads seed 003\'s generated entry: no addresses, TLS 443, MESH_INTERNAL, DNS', () => {
    const [se] = serviceEntries(resources(fixture('seed003-serviceentry-tls-no-addresses.yaml')));
    expect(se).to.include({ namespace: 'abc', name: 'traefik-cutom-name', location: 'MESH_INTERNAL', resolution: 'DNS' });
    expect(se.hosts).to.deep.equal(['traefik.cutom-name']);
    expect(se.addresses).to.deep.equal([]);
    expect(se.ports[0]).to.include({ name: 'https-443', number: 443, declaredProtocol: 'TLS' });
    expect(se.ports[0].protocol).to.include({ protocol: 'TLS', from: 'protocol' });
    expect(se.ref).to.deep.equal({ kind: 'ServiceEntry', namespace: 'abc', name: 'traefik-cutom-name' });
  });

  it('reads the fix: addresses and endpoints', () => {
    const [se] = serviceEntries(resources(fixture('seed003-serviceentry-fixed.yaml')));
    expect(se.addresses).to.deep.equal(['10.96.120.15']);
    expect(se.endpoints).to.deep.equal([{ address: 'traefik.abc.svc.cluster.local' }]);
  });

  it('defaults: location MESH_EXTERNAL, resolution NONE (enum zero values); exportTo, workloadSelector, status addresses', () => {
    const se = serviceEntryView({
      apiVersion: 'networking.istio.io/v1', kind: 'ServiceEntry', metadata: { name: 'x', namespace: 'ns' },
      spec: { hosts: ['a.example.com'], ports: [{ number: 5432, name: 'db' }], exportTo: ['.'], workloadSelector: { labels: { app: 'vm' } } },
      status: { addresses: [{ value: '240.240.0.1', host: 'a.example.com' }] },
    });
    expect(se.location).to.equal('MESH_EXTERNAL');
    expect(se.resolution).to.equal('NONE');
    expect(se.exportTo).to.deep.equal(['.']);
    expect(se.workloadSelector).to.deep.equal({ app: 'vm' });
    expect(se.allocatedAddresses).to.deep.equal(['240.240.0.1']);
    expect(se.ports[0].protocol.protocol).to.equal(undefined);
  });
});
