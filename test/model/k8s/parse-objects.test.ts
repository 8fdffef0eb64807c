import { expect } from 'chai';
import { stringify } from 'yaml';
import { parseKubeObjects } from '../../../src/model/k8s/resources.js';

// The shapes `kubectl get -o json` and `-o yaml` print: a List of items, or documents.
const LIST = {
  apiVersion: 'v1', kind: 'List', metadata: { resourceVersion: '' },
  items: [
    { apiVersion: 'v1', kind: 'Service', metadata: { name: 'web', namespace: 'shop', labels: { app: 'web' } }, spec: { ports: [{ name: 'http', port: 443, targetPort: 8443 }] } },
    { apiVersion: 'networking.istio.io/v1', kind: 'ServiceEntry', metadata: { name: 'ext', namespace: 'shop' }, spec: { hosts: ['api.example.com'], ports: [{ number: 443, name: 'tls', protocol: 'TLS' }] } },
  ],
};

describe('parseKubeObjects: kubectl output, JSON or YAML, to objects', () => {
  it('reads `-o json` and `-o yaml` of one listing to the same objects', () => {
    const fromJson = parseKubeObjects(JSON.stringify(LIST, null, 4), 'json');
    expect(fromJson.map((o) => `${o.kind}/${o.metadata.name}`)).to.deep.equal(['Service/web', 'ServiceEntry/ext']);
    expect(fromJson).to.deep.equal(parseKubeObjects(stringify(LIST), 'yaml'));
  });

  it('reads a YAML flow mapping that is not JSON (unquoted keys) as YAML', () => {
    const [object] = parseKubeObjects('{apiVersion: v1, kind: Service, metadata: {name: web, namespace: shop}}', 'flow');
    expect(object?.metadata.name).to.equal('web');
  });

  it('reports broken JSON as the YAML parser words it, with what was read', () => {
    expect(() => parseKubeObjects('{"apiVersion": "v1", "kind": ', 'kubectl get pods')).to.throw(/kubectl get pods.*not (valid )?YAML/);
  });

  it('reads several YAML documents', () => {
    const text = LIST.items.map((i) => stringify(i)).join('---\n');
    expect(parseKubeObjects(text, 'docs')).to.have.length(2);
  });
});
