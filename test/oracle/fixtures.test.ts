import { expect } from 'chai';
import { execFile } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { parse, parseAllDocuments } from 'yaml';
import { REPO_ROOT } from '../support/cli.js';

// The fixture oracle (tools/istio-oracle, docs/fixtures.md) writes each scenario's
// snapshot/ from Istio's own config generator. These tests check that what is
// committed is complete and, on request, that regenerating gives the same bytes.

const SCENARIOS = path.join(REPO_ROOT, 'test/scenarios');
const DUMP_FILE = 'config_dump?include_eds';

interface ProxySpec { kind?: 'sidecar' | 'gateway' | 'waypoint'; namespace: string; name: string }
interface ScenarioSpec { description: string; provenance: string; proxies: ProxySpec[] }

function scenarioNames(): string[] {
  return readdirSync(SCENARIOS)
    .filter((n) => existsSync(path.join(SCENARIOS, n, 'scenario.yaml')))
    .sort();
}

function filesUnder(dir: string): string[] {
  if (!existsSync(dir)) return [];
  const out: string[] = [];
  const walk = (d: string) => {
    for (const e of readdirSync(d).sort()) {
      const p = path.join(d, e);
      if (statSync(p).isDirectory()) walk(p);
      else out.push(path.relative(dir, p));
    }
  };
  walk(dir);
  return out;
}

function allTypedAreTyped(value: unknown, where: string): void {
  // Every google.protobuf.Any in Envoy's JSON carries "@type"; a typed_config without one
  // would mean the oracle marshalled without a type resolver.
  if (Array.isArray(value)) {
    value.forEach((v, i) => allTypedAreTyped(v, `${where}[${i}]`));
  } else if (value && typeof value === 'object') {
    for (const [k, v] of Object.entries(value)) {
      if (k === 'typed_config' || k === 'typed_per_filter_config_value') {
        expect(v, `${where}.${k}`).to.have.property('@type');
      }
      allTypedAreTyped(v, `${where}.${k}`);
    }
  }
}

// What each proxy kind's generated config must show (Istio's builders: a sidecar's virtual
// listeners; a gateway's one listener per Gateway port, named 0.0.0.0_<target port>, per route
// config http.<port>/https.<port>...; a waypoint's HBONE termination listener).
const NODE_TYPE = { sidecar: 'sidecar', gateway: 'router', waypoint: 'waypoint' } as const;
const EXPECTED_LISTENERS = {
  sidecar: () => ['virtualInbound', 'virtualOutbound'],
  gateway: (routes: Record<string, any> | undefined) => (routes?.dynamic_route_configs as Array<any> ?? [])
    .map((r) => String(r.route_config.name).match(/^https?\.(\d+)/)).filter((m) => m?.[0].startsWith('http.'))
    .map((m) => `0.0.0.0_${m![1]}`),
  waypoint: () => ['connect_terminate', 'main_internal'],
} as const;
// A gateway has no PassthroughCluster (nothing is intercepted); a waypoint only its internal clusters.
const EXPECTED_CLUSTERS = { sidecar: ['PassthroughCluster', 'BlackHoleCluster'], gateway: ['BlackHoleCluster'], waypoint: ['main_internal'] };

describe('fixture oracle scenarios (test/scenarios)', () => {
  const names = scenarioNames();

  it('has scenarios for every seed', () => {
    for (const seed of ['seed000', 'seed001', 'seed002', 'seed003', 'seed004']) {
      expect(names.some((n) => n.startsWith(seed)), seed).to.equal(true);
    }
  });

  for (const name of names) {
    describe(name, () => {
      const dir = path.join(SCENARIOS, name);
      const snap = path.join(dir, 'snapshot');
      const spec = parse(readFileSync(path.join(dir, 'scenario.yaml'), 'utf8')) as ScenarioSpec;

      it('describes itself and says where it comes from', () => {
        expect(spec.description, 'description').to.be.a('string').and.not.empty;
        expect(spec.provenance, 'provenance').to.be.a('string').and.not.empty;
        expect(spec.proxies, 'proxies').to.be.an('array').and.not.empty;
      });

      it('has a generated snapshot with versions, cluster/crs and cluster/k8s-resources', () => {
        const versions = readFileSync(path.join(snap, 'versions'), 'utf8');
        expect(versions).to.match(/istio-oracle/).and.match(/istio\.io\/istio module: v0\.0\.0-/);
        expect(existsSync(path.join(snap, 'cluster/crs'))).to.equal(true);
        const docs = parseAllDocuments(readFileSync(path.join(snap, 'cluster/k8s-resources'), 'utf8'))
          .map((d) => d.toJS() as { kind: string; metadata: { name: string; namespace?: string } });
        expect(docs.some((d) => d.kind === 'ConfigMap' && d.metadata.name === 'istio' && d.metadata.namespace === 'istio-system'),
          'istio ConfigMap').to.equal(true);
        for (const p of spec.proxies) {
          expect(docs.some((d) => d.kind === 'Pod' && d.metadata.name === p.name && d.metadata.namespace === p.namespace),
            `Pod ${p.namespace}/${p.name}`).to.equal(true);
        }
      });

      for (const p of spec.proxies) {
        it(`has a parseable config dump for ${p.namespace}/${p.name} with listeners and clusters`, () => {
          const file = path.join(snap, 'proxies', p.namespace, p.name, DUMP_FILE);
          const dump = JSON.parse(readFileSync(file, 'utf8')) as { configs: Array<Record<string, any>> };
          const byType = new Map(dump.configs.map((c) => [String(c['@type']).split('.').pop(), c]));
          expect([...byType.keys()]).to.include.members([
            'BootstrapConfigDump', 'ClustersConfigDump', 'ListenersConfigDump', 'RoutesConfigDump', 'SecretsConfigDump',
          ]);
          const node = byType.get('BootstrapConfigDump')!.bootstrap.node;
          expect(node.metadata.NAMESPACE).to.equal(p.namespace);
          expect(node.metadata.NAME).to.equal(p.name);
          expect(node.metadata.ISTIO_VERSION).to.be.a('string').and.not.empty;

          // istiod sends a gateway that no Gateway selects no listeners at all (gw-selector-no-pod): the key is absent.
          const listeners = (byType.get('ListenersConfigDump')!.dynamic_listeners ?? []) as Array<any>;
          if (p.kind !== 'gateway') expect(listeners.length).to.be.greaterThan(0);
          // A gateway listener waiting for a credential is in warming_state (Envoy's rule the oracle applies).
          const names = listeners.filter((l) => l.active_state).map((l) => l.active_state.listener.name);
          for (const l of listeners.filter((x) => !x.active_state)) expect(p.kind, `${l.name} without active_state`).to.equal('gateway');
          expect(node.id.split('~')[0], 'node type in the node id').to.equal(NODE_TYPE[p.kind ?? 'sidecar']);
          expect(names).to.include.members(EXPECTED_LISTENERS[p.kind ?? 'sidecar'](byType.get('RoutesConfigDump')));
          for (const l of listeners) expect((l.active_state ?? l.warming_state).listener['@type']).to.equal('type.googleapis.com/envoy.config.listener.v3.Listener');

          const statics = (byType.get('ListenersConfigDump')!.static_listeners as Array<any>).map((l) => l.listener.address.socket_address.port_value);
          expect(statics, 'static listeners from the bootstrap').to.include.members([15090, 15021]);
          const staticClusters = (byType.get('ClustersConfigDump')!.static_clusters as Array<any>).map((c) => c.cluster.name);
          expect(staticClusters, 'static clusters from the bootstrap').to.include.members(['prometheus_stats', 'agent', 'sds-grpc', 'xds-grpc']);

          const clusters = byType.get('ClustersConfigDump')!.dynamic_active_clusters as Array<any>;
          expect(clusters.map((c) => c.cluster.name)).to.include.members(EXPECTED_CLUSTERS[p.kind ?? 'sidecar']);
          for (const c of clusters) expect(c.cluster['@type']).to.equal('type.googleapis.com/envoy.config.cluster.v3.Cluster');
          allTypedAreTyped(dump, name);
        });

        it(`has istioctl's listener table for ${p.namespace}/${p.name}`, () => {
          const golden = path.join(dir, 'expected', `${p.namespace}.${p.name}.istioctl-listeners.txt`);
          const text = readFileSync(golden, 'utf8');
          expect(text.split('\n')[0]).to.match(/^ADDRESSES\s+PORT\s+MATCH\s+DESTINATION/);
        });
      }
    });
  }
});

describe('fixture oracle regeneration', function () {
  this.timeout(60 * 60 * 1000); // the first Go build of istio takes ~10 minutes on 2 cores

  it('regenerates byte-identical snapshots and istioctl goldens', async function () {
    const hasGo = await new Promise<boolean>((resolve) => {
      execFile('go', ['version'], (err) => resolve(!err));
    });
    if (process.env.MESH_DOCTOR_REGENERATE !== '1' || !hasGo) {
      console.log(`    (skipped: regeneration needs MESH_DOCTOR_REGENERATE=1 and go on PATH; `
        + `MESH_DOCTOR_REGENERATE=${process.env.MESH_DOCTOR_REGENERATE ?? 'unset'}, go ${hasGo ? 'found' : 'not found'})`);
      this.skip();
    }
    const tmp = await mkdtemp(path.join(os.tmpdir(), 'mesh-doctor-oracle-'));
    try {
      await new Promise<void>((resolve, reject) => {
        execFile('bash', [path.join(REPO_ROOT, 'tools/istio-oracle/generate.sh')], {
          cwd: REPO_ROOT,
          env: { ...process.env, OUT_ROOT: tmp },
          maxBuffer: 256 * 1024 * 1024,
        }, (err, _stdout, stderr) => (err ? reject(new Error(`generate.sh failed: ${err.message}\n${stderr.slice(-4000)}`)) : resolve()));
      });
      const differences: string[] = [];
      const compare = (committed: string, fresh: string, label: string) => {
        const a = filesUnder(committed);
        const b = filesUnder(fresh);
        for (const f of new Set([...a, ...b])) {
          const pa = path.join(committed, f);
          const pb = path.join(fresh, f);
          if (!existsSync(pa)) differences.push(`${label}/${f}: not committed`);
          else if (!existsSync(pb)) differences.push(`${label}/${f}: not regenerated`);
          else if (!readFileSync(pa).equals(readFileSync(pb))) differences.push(`${label}/${f}: differs`);
        }
      };
      for (const name of scenarioNames()) {
        compare(path.join(SCENARIOS, name, 'snapshot'), path.join(tmp, name, 'snapshot'), `${name}/snapshot`);
        compare(path.join(SCENARIOS, name, 'expected'), path.join(tmp, name, 'expected'), `${name}/expected`);
      }
      if (existsSync(path.join(tmp, 'real-dumps-expected'))) {
        compare(path.join(REPO_ROOT, 'test/real-dumps-expected'), path.join(tmp, 'real-dumps-expected'), 'real-dumps-expected');
      }
      expect(differences, differences.join('\n')).to.deep.equal([]);
    } finally {
      await rm(tmp, { recursive: true, force: true });
    }
  });
});
