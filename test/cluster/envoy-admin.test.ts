import {expect} from 'chai';
import fc from 'fast-check';
import {DEFAULT_LOGGERS, LEVELS, ProxyState, adminRequest, parseLoggingText, pilotAgentRequest} from './envoy-admin.js';
import {parseProbe} from './commands.js';
import {parseFieldSelector, parseLabelSelector} from './selectors.js';
import {humanDuration} from './tables.js';
import {leadingTimestamp} from './server.js';

const ctx = () => ({dir: undefined, rel: 'proxies/ns/pod', state: new ProxyState(undefined)});

describe('test cluster: Envoy admin emulation (no kubectl needed)', () => {
  it('starts from Istio defaults when the snapshot has no logging file', () => {
    const s = new ProxyState(undefined);
    expect(Object.keys(s.current())).to.deep.equal(DEFAULT_LOGGERS);
    expect(s.current().misc).to.equal('error');
    expect(new Set(Object.values(s.current()))).to.deep.equal(new Set(['warning', 'error']));
  });

  it('round-trips its own /logging text', () => {
    const s = new ProxyState(undefined);
    expect(parseLoggingText(s.loggingText())).to.deep.equal(s.levels);
  });

  it('paths= is all-or-nothing for any input', () => {
    fc.assert(fc.property(
      fc.array(fc.tuple(fc.oneof(fc.constantFrom(...DEFAULT_LOGGERS), fc.stringMatching(/^[a-z_]{1,8}$/)), fc.oneof(fc.constantFrom(...LEVELS), fc.constantFrom('warn', 'DEBUG', ''))), {minLength: 1, maxLength: 6}),
      (pairs) => {
        const c = ctx();
        const before = c.state.current();
        const r = pilotAgentRequest(c, ['POST', `logging?paths=${pairs.map(([n, l]) => `${n}:${l}`).join(',')}`]);
        const valid = pairs.every(([n, l]) => DEFAULT_LOGGERS.includes(n) && (LEVELS as readonly string[]).includes(l));
        if (valid) {
          expect(r.exitCode).to.equal(0);
          const expected = {...before};
          for (const [n, l] of pairs) expected[n] = l;
          expect(c.state.current()).to.deep.equal(expected);
        } else {
          expect(r.exitCode).to.equal(255);
          expect(r.stderr).to.match(/^Error: received unsuccessful status code 400: error: (unknown logger name|unknown logger level|empty logger name or empty logger level)\n/);
          expect(c.state.current()).to.deep.equal(before);
        }
        expect(r.logging!.mutation).to.equal(JSON.stringify(c.state.current()) !== JSON.stringify(before));
      },
    ));
  });

  it('an admin 404 is printed and exits 0, as pilot-agent does', () => {
    const r = pilotAgentRequest(ctx(), ['GET', 'nosuchpath']);
    expect(r.exitCode).to.equal(0);
    expect(r.stdout).to.match(/^invalid path\. admin commands are:/);
  });

  it('refuses ports pilot-agent refuses and too few arguments', () => {
    expect(pilotAgentRequest(ctx(), ['GET', 'stats', '--debug-port', '8080']).stderr).to.contain('debug port 8080 is not in allowed list');
    expect(pilotAgentRequest(ctx(), ['GET']).stderr).to.contain('requires at least 2 arg(s)');
  });

  it('reports uptime from the recorded value and resets it on restart', () => {
    const s = new ProxyState(undefined, 0);
    s.baseUptimeSeconds = 100;
    expect(s.uptimeSeconds(5_000)).to.equal(105);
    s.restart(10_000);
    expect(s.uptimeSeconds(12_000)).to.equal(2);
    const info = adminRequest({...ctx(), state: s, now: 12_000}, 'GET', 'server_info');
    expect(JSON.parse((info as {body: string}).body).uptime_current_epoch).to.equal('2s');
  });
});

describe('test cluster: helpers', () => {
  it('parses probe files', () => {
    const p = parseProbe('# command: curl -sv x\n# exit: 7\nout\n# --- stderr ---\nerr\n')!;
    expect(p).to.deep.equal({command: 'curl -sv x', container: undefined, exit: 7, stdout: 'out\n', stderr: 'err\n'});
    expect(parseProbe('no header')).to.equal(undefined);
  });

  it('matches label and field selectors like the API server', () => {
    const m = parseLabelSelector('app in (a,b),!canary,tier,env!=prod');
    expect(m({app: 'a', tier: 'x'})).to.equal(true);
    expect(m({app: 'a', tier: 'x', canary: 'y'})).to.equal(false);
    expect(m({app: 'c', tier: 'x'})).to.equal(false);
    expect(m({app: 'b', tier: 'x', env: 'prod'})).to.equal(false);
    const f = parseFieldSelector('status.phase=Running,spec.nodeName!=n1', 'Pod');
    expect(f({metadata: {name: 'p'}, status: {phase: 'Running'}, spec: {nodeName: 'n2'}})).to.equal(true);
    expect(f({metadata: {name: 'p'}, status: {phase: 'Running'}, spec: {nodeName: 'n1'}})).to.equal(false);
    expect(() => parseFieldSelector('spec.foo=1', 'Pod')).to.throw('field label not supported: spec.foo');
  });

  it('reads leading timestamps of Envoy and access-log lines', () => {
    expect(leadingTimestamp('2026-01-01T00:00:00.123456Z\tdebug\tenvoy x')).to.equal(Date.UTC(2026, 0, 1, 0, 0, 0, 123));
    expect(leadingTimestamp('[2026-01-01T00:01:00.123Z] "GET / HTTP/1.1" 200')).to.equal(Date.UTC(2026, 0, 1, 0, 1, 0, 123));
    expect(leadingTimestamp('  continuation')).to.equal(undefined);
  });

  it('prints ages like kubectl', () => {
    expect(humanDuration(90_000)).to.equal('90s');
    expect(humanDuration(5 * 60_000 + 3000)).to.equal('5m3s');
    expect(humanDuration(3 * 3600_000 + 60_000)).to.equal('3h1m');
    expect(humanDuration(30 * 86400_000)).to.equal('30d');
  });
});
