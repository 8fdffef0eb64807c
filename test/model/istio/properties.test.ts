import { expect } from 'chai';
import fc from 'fast-check';
import { ParseError } from '../../../src/errors.js';
import { ResourceSet, type KubeObject } from '../../../src/model/k8s/resources.js';
import { destinationRuleFor, destinationRuleView } from '../../../src/model/istio/destination-rule.js';
import { meshConfigFrom, parseMeshConfig } from '../../../src/model/istio/mesh-config.js';
import { effectiveMtls, peerAuthenticationView } from '../../../src/model/istio/peer-authentication.js';
import { serviceEntryProtocol, serviceProtocol } from '../../../src/model/istio/protocol.js';
import { serviceEntryView } from '../../../src/model/istio/service-entry.js';
import { resolveTargetPort, serviceView } from '../../../src/model/istio/services.js';
import { sidecarView, visibleTo } from '../../../src/model/istio/sidecar.js';
import { runStaticChecks } from '../../../src/rules/mesh/index.js';
import { parseIstioVersion, httpOn443Breaks } from '../../../src/model/istio/version-behaviour.js';

const KINDS = ['Service', 'ServiceEntry', 'DestinationRule', 'PeerAuthentication', 'Sidecar', 'ConfigMap', 'MeshPolicy', 'Policy', 'Pod'];

// Arbitrary JSON-ish values, biased towards the field names the views read.
const fieldNames = fc.constantFrom('ports', 'hosts', 'addresses', 'exportTo', 'selector', 'workloadSelector', 'trafficPolicy', 'tls', 'mode', 'mtls',
  'portLevelMtls', 'egress', 'port', 'number', 'protocol', 'name', 'targetPort', 'appProtocol', 'clusterIP', 'labels', 'matchLabels', 'subsets',
  'portLevelSettings', 'outlierDetection', 'connectionPool', 'peers', 'endpoints', 'location', 'resolution', 'mesh', 'host', 'containers', 'x');
const { tree } = fc.letrec((tie) => ({
  tree: fc.oneof({ depthSize: 'small' }, fc.string(), fc.integer(), fc.boolean(), fc.constant(null), fc.double(),
    fc.array(tie('tree'), { maxLength: 4 }), fc.dictionary(fieldNames, tie('tree'), { maxKeys: 5 })),
}));

const kubeObject = fc.record({
  apiVersion: fc.constant('v1'),
  kind: fc.constantFrom(...KINDS),
  metadata: fc.record({ name: fc.string({ minLength: 1, maxLength: 8 }), namespace: fc.option(fc.constantFrom('a', 'b', 'istio-system'), { nil: undefined }), labels: fc.option(tree, { nil: undefined }), annotations: fc.option(tree, { nil: undefined }) }),
  spec: tree,
  status: fc.option(tree, { nil: undefined }),
  data: fc.option(fc.oneof(tree, fc.record({ mesh: fc.string() })), { nil: undefined }),
}) as unknown as fc.Arbitrary<KubeObject>;

function onlyParseErrors(fn: () => unknown): void {
  try {
    fn();
  } catch (error) {
    expect(error, String(error)).to.be.instanceOf(ParseError);
  }
}

describe('istio views: property tests (arbitrary objects never throw anything but ParseError)', () => {
  it('per-object views', () => {
    fc.assert(fc.property(kubeObject, (o) => {
      onlyParseErrors(() => {
        const s = serviceView(o);
        for (const p of s.ports) resolveTargetPort(p, o);
        serviceEntryView(o);
        destinationRuleView(o);
        peerAuthenticationView(o);
        sidecarView(o);
      });
    }), { numRuns: 400 });
  });

  it('set-level lookups and static checks', () => {
    fc.assert(fc.property(fc.array(kubeObject, { maxLength: 8 }), fc.string(), (objects, text) => {
      onlyParseErrors(() => {
        const set = new ResourceSet(objects);
        let mesh;
        try {
          mesh = meshConfigFrom(set);
        } catch (e) {
          expect(e).to.be.instanceOf(ParseError);
        }
        destinationRuleFor('a.b.svc.cluster.local', { namespace: 'b', labels: {} }, set, { mesh });
        effectiveMtls(set, { namespace: 'a', labels: {} }, 80, { mesh });
        for (const o of objects) visibleTo({ namespace: 'a', labels: {} }, o, set, { mesh });
        runStaticChecks(set, { mesh, istioVersion: parseIstioVersion(text) });
      });
    }), { numRuns: 300 });
  });

  it('strings: protocol derivation, mesh config text, version strings', () => {
    fc.assert(fc.property(fc.string(), fc.string(), fc.integer(), (a, b, n) => {
      serviceProtocol({ name: a, appProtocol: b, port: n });
      serviceEntryProtocol({ name: a, protocol: b });
      httpOn443Breaks(parseIstioVersion(a));
      onlyParseErrors(() => parseMeshConfig(a));
    }), { numRuns: 500 });
  });
});
