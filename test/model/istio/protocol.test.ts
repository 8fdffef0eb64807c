import { expect } from 'chai';
import { isHttpFamily, protocolFromName, serviceEntryProtocol, serviceProtocol } from '../../../src/model/istio/protocol.js';

// Rows follow pkg/config/kube/conversion.go ConvertProtocol and pkg/config/protocol/instance.go Parse.
describe('istio/protocol', () => {
  const servicePorts: Array<[string, Parameters<typeof serviceProtocol>[0], string | undefined, string]> = [
    ['seed 000: name http on 443', { name: 'http', port: 443 }, 'HTTP', 'name'],
    ['name http-foo', { name: 'http-foo', port: 8080 }, 'HTTP', 'name'],
    ['name HTTP2 (case-insensitive)', { name: 'HTTP2', port: 8080 }, 'HTTP2', 'name'],
    ['name https', { name: 'https', port: 443 }, 'HTTPS', 'name'],
    ['name https-443', { name: 'https-443', port: 443 }, 'HTTPS', 'name'],
    ['name grpc', { name: 'grpc', port: 9000 }, 'GRPC', 'name'],
    ['name grpc-web', { name: 'grpc-web', port: 9000 }, 'GRPC-Web', 'name'],
    ['name grpc-web-x', { name: 'grpc-web-x', port: 9000 }, 'GRPC-Web', 'name'],
    ['name grpc-x', { name: 'grpc-x', port: 9000 }, 'GRPC', 'name'],
    ['name tcp-db', { name: 'tcp-db', port: 5432 }, 'TCP', 'name'],
    ['name tls', { name: 'tls', port: 443 }, 'TLS', 'name'],
    ['name mongo', { name: 'mongo', port: 27018 }, 'Mongo', 'name'],
    ['name mysql', { name: 'mysql', port: 3307 }, 'MySQL', 'name'],
    ['name redis', { name: 'redis', port: 6379 }, 'Redis', 'name'],
    ['name httpfoo is no protocol', { name: 'httpfoo', port: 8080 }, undefined, 'default'],
    ['name web: auto-detect', { name: 'web', port: 8080 }, undefined, 'default'],
    ['unnamed port: auto-detect', { port: 8080 }, undefined, 'default'],
    ['unnamed well-known 3306 is TCP', { port: 3306 }, 'TCP', 'default'],
    ['appProtocol wins over name', { name: 'http', appProtocol: 'https', port: 443 }, 'HTTPS', 'appProtocol'],
    ['appProtocol http on a tcp-named port', { name: 'tcp', appProtocol: 'http', port: 80 }, 'HTTP', 'appProtocol'],
    ['unknown appProtocol does not fall back to the name', { name: 'http', appProtocol: 'kubernetes.io/h2c', port: 80 }, undefined, 'default'],
    ['protocol UDP', { name: 'http', protocol: 'UDP', port: 53 }, 'UDP', 'protocol'],
  ];
  for (const [name, input, protocol, from] of servicePorts) {
    it(`Service port: ${name}`, () => {
      const derived = serviceProtocol(input);
      expect(derived.protocol).to.equal(protocol);
      expect(derived.from).to.equal(from);
      expect(derived.detail).to.be.a('string').and.not.equal('');
    });
  }

  it('ServiceEntry ports read protocol only, never the name (serviceentry/conversion.go convertPort)', () => {
    expect(serviceEntryProtocol({ name: 'https-443', protocol: 'TLS' })).to.include({ protocol: 'TLS', from: 'protocol' });
    expect(serviceEntryProtocol({ name: 'http', protocol: 'tcp' })).to.include({ protocol: 'TCP', from: 'protocol' });
    const unset = serviceEntryProtocol({ name: 'https' });
    expect(unset.protocol).to.equal(undefined);
    expect(unset.from).to.equal('default');
    expect(unset.detail).to.match(/does not read ServiceEntry port names/);
    expect(serviceEntryProtocol({ protocol: 'SMTP' }).protocol).to.equal(undefined);
  });

  it('protocolFromName: exact protocol or prefix + "-"', () => {
    expect(protocolFromName('http')).to.equal('HTTP');
    expect(protocolFromName('http-')).to.equal('HTTP');
    expect(protocolFromName('http_proxy')).to.equal('HTTP_PROXY');
    expect(protocolFromName('xhttp')).to.equal(undefined);
  });

  it('isHttpFamily: HTTP, HTTP2, HTTP_PROXY, GRPC, GRPC-Web (protocol.Instance.IsHTTP)', () => {
    for (const p of ['HTTP', 'HTTP2', 'HTTP_PROXY', 'GRPC', 'GRPC-Web'] as const) expect(isHttpFamily(p), p).to.equal(true);
    for (const p of ['HTTPS', 'TLS', 'TCP', 'Mongo', undefined] as const) expect(isHttpFamily(p), String(p)).to.equal(false);
  });
});
