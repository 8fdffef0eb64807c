import { expect } from 'chai';
import fc from 'fast-check';
import { ejected, parseAdminClusters } from '../../../src/model/envoy/admin-clusters.js';
import { clusterStat, parseEnvoyStats } from '../../../src/model/envoy/admin-stats.js';
import { quoteWord, shellWords, ShellWordsError } from '../../../src/capture/shell-words.js';

const C = 'outbound|8000||httpbin.foo.svc.cluster.local';

describe('/clusters parser (text and ?format=json)', () => {
  it('reads thresholds, per-host counters and health flags from the text layout', () => {
    const text = [
      `${C}::observability_name::${C}`,
      `${C}::default_priority::max_connections::1`,
      `${C}::default_priority::max_pending_requests::1`,
      `${C}::high_priority::max_connections::1024`,
      `${C}::added_via_api::true`,
      `${C}::172.17.0.14:8080::cx_connect_fail::3`,
      `${C}::172.17.0.14:8080::rq_error::4`,
      `${C}::172.17.0.14:8080::health_flags::/failed_outlier_check`,
      `${C}::172.17.0.15:8080::health_flags::healthy`,
      'inbound|8080||::[fd00::1]:8080::rq_total::7',
    ].join('\n');
    const parsed = parseAdminClusters(text);
    expect(parsed.format).to.equal('text');
    const c = parsed.clusters.get(C)!;
    expect(c.thresholds).to.deep.equal([{ priority: 'default', maxConnections: 1, maxPendingRequests: 1 }, { priority: 'high', maxConnections: 1024 }]);
    expect(c.hosts.map((h) => [h.address, h.healthy, h.healthFlags, h.counters])).to.deep.equal([
      ['172.17.0.14:8080', false, ['failed_outlier_check'], { cx_connect_fail: 3, rq_error: 4 }],
      ['172.17.0.15:8080', true, [], {}],
    ]);
    expect(ejected(c.hosts[0])).to.equal(true);
    expect(parsed.clusters.get('inbound|8080||')!.hosts[0]).to.deep.include({ address: '[fd00::1]:8080', counters: { rq_total: 7 } });
  });

  it('reads the JSON shape, where proto3 omits zero values', () => {
    const json = JSON.stringify({
      cluster_statuses: [{
        name: C,
        added_via_api: true,
        circuit_breakers: { thresholds: [{ max_connections: 1, max_pending_requests: 1 }, { priority: 'HIGH', max_connections: 1024 }] },
        host_statuses: [{
          address: { socket_address: { address: '172.17.0.14', port_value: 8080 } },
          stats: [{ name: 'cx_connect_fail', value: '2' }, { name: 'rq_error' }, { name: 'cx_active', type: 'GAUGE' }],
          health_status: { failed_outlier_check: true, eds_health_status: 'HEALTHY' },
        }],
      }],
    });
    const c = parseAdminClusters(json).clusters.get(C)!;
    expect(c.thresholds[0]).to.deep.equal({ priority: 'default', maxConnections: 1, maxPendingRequests: 1 });
    expect(c.hosts[0]).to.deep.include({ address: '172.17.0.14:8080', healthy: false, healthFlags: ['failed_outlier_check'], counters: { cx_connect_fail: 2, rq_error: 0, cx_active: 0 } });
  });

  it('says why it could not read something instead of throwing', () => {
    expect(parseAdminClusters('{"nope": 1}').unreadable).to.equal('JSON without cluster_statuses');
    expect(parseAdminClusters('{trunc').unreadable).to.match(/^not valid JSON/);
    expect(parseAdminClusters('').clusters.size).to.equal(0);
  });

  it('property: never throws on arbitrary text, and reads back generated host counters', () => {
    fc.assert(fc.property(fc.string({ maxLength: 400 }), (text) => {
      parseAdminClusters(text);
      parseAdminClusters(`{${text}`);
    }), { numRuns: 300 });
    const stat = fc.constantFrom('cx_active', 'cx_connect_fail', 'rq_error', 'rq_total', 'rq_timeout');
    fc.assert(fc.property(
      fc.array(fc.record({ ip: fc.ipV4(), port: fc.integer({ min: 1, max: 65535 }), stat, value: fc.nat({ max: 1_000_000 }) }), { maxLength: 20 }),
      (rows) => {
        const parsed = parseAdminClusters(rows.map((r) => `${C}::${r.ip}:${r.port}::${r.stat}::${r.value}`).join('\n'));
        const expected = new Map<string, Record<string, number>>();
        for (const r of rows) expected.set(`${r.ip}:${r.port}`, { ...(expected.get(`${r.ip}:${r.port}`) ?? {}), [r.stat]: r.value });
        const got = new Map((parsed.clusters.get(C)?.hosts ?? []).map((h) => [h.address, h.counters]));
        expect(got).to.deep.equal(expected);
      },
    ), { numRuns: 200 });
  });
});

describe('stats parser (text /stats and /stats/prometheus)', () => {
  it('reads seed 004\'s text stats', () => {
    const stats = parseEnvoyStats(`${'cluster.'}${C}.upstream_rq_pending_overflow: 0\ncluster.${C}.upstream_rq_pending_total: 5\n`);
    expect(stats.format).to.equal('text');
    expect(clusterStat(stats, C, 'upstream_rq_pending_overflow')).to.deep.equal({ name: `cluster.${C}.upstream_rq_pending_overflow`, value: 0, line: `cluster.${C}.upstream_rq_pending_overflow: 0` });
    expect(clusterStat(stats, C, 'upstream_cx_overflow').missing).to.equal(`Envoy did not report it for ${C} (other stats of that cluster are present)`);
  });

  it('reads prometheus cluster stats into the same names, and skips histograms', () => {
    const stats = parseEnvoyStats([
      '# TYPE envoy_cluster_upstream_rq_pending_overflow counter',
      `envoy_cluster_upstream_rq_pending_overflow{cluster_name="${C}"} 21`,
      `envoy_cluster_upstream_rq_time_bucket{cluster_name="${C}",le="0.5"} 3`,
      'envoy_server_live{} 1',
    ].join('\n'));
    expect(stats.format).to.equal('prometheus');
    expect(clusterStat(stats, C, 'upstream_rq_pending_overflow').value).to.equal(21);
    expect([...stats.values.keys()]).to.deep.equal([`cluster.${C}.upstream_rq_pending_overflow`, 'server_live']);
  });

  it('says plainly when a stat is absent because of Istio\'s default stats matcher', () => {
    const stats = parseEnvoyStats('envoy_cluster_manager_active_clusters{} 14\nenvoy_server_live{} 1\n');
    expect(clusterStat(stats, C, 'upstream_rq_pending_overflow').missing).to.match(/^absent because Istio's default stats matcher drops per-cluster stats .*statsInclusionPrefixes/);
  });

  it('property: never throws, and prometheus counters read back', () => {
    fc.assert(fc.property(fc.string({ maxLength: 400 }), (text) => {
      parseEnvoyStats(text);
      parseEnvoyStats(`# TYPE x counter\n${text}`);
    }), { numRuns: 300 });
    fc.assert(fc.property(
      fc.dictionary(fc.stringMatching(/^[a-z][a-z_]{0,20}$/), fc.nat({ max: 2 ** 31 }), { maxKeys: 10 }),
      (values) => {
        const text = Object.entries(values).map(([k, v]) => `envoy_cluster_${k}{cluster_name="${C}"} ${v}`).join('\n');
        const stats = parseEnvoyStats(`# TYPE envoy_cluster_x counter\n${text}`);
        for (const [k, v] of Object.entries(values)) {
          if (/_(bucket|sum|count)$/.test(k)) continue;
          expect(clusterStat(stats, C, k).value).to.equal(v);
        }
      },
    ), { numRuns: 200 });
  });
});

describe('shell-words (--reproduce)', () => {
  it('splits like a shell, without expanding anything', () => {
    expect(shellWords(`curl -sv 'http://httpbin:8000/get?a=1&b=2' -H "X-Test: a \\"b\\"" $HOME`)).to.deep.equal(['curl', '-sv', 'http://httpbin:8000/get?a=1&b=2', '-H', 'X-Test: a "b"', '$HOME']);
    expect(shellWords('  a\\ b  ""  ')).to.deep.equal(['a b', '']);
    expect(() => shellWords("curl 'x")).to.throw(ShellWordsError, /unterminated single quote/);
    expect(() => shellWords('curl "x')).to.throw(ShellWordsError, /unterminated double quote/);
  });

  it('property: quoted words split back to themselves; arbitrary text throws only ShellWordsError', () => {
    fc.assert(fc.property(fc.array(fc.string({ maxLength: 20 }), { maxLength: 8 }), (words) => {
      expect(shellWords(words.map(quoteWord).join(' '))).to.deep.equal(words);
    }), { numRuns: 500 });
    fc.assert(fc.property(fc.string({ maxLength: 200 }), (text) => {
      try {
        shellWords(text);
      } catch (error) {
        expect(error).to.be.instanceOf(ShellWordsError);
      }
    }), { numRuns: 500 });
  });
});
