import { expect } from 'chai';
import * as F from '../model/logs/fixtures.js';
import { jsonOf, runCli } from '../support/cli.js';

/**
 * A paste is read top to bottom: items in input order, unrecognised lines
 * marked where they were, the lines of one Envoy connection together.
 */
describe('explain on a multi-line paste', () => {
  // Quoted from seed 004 (test/model/logs/fixtures.ts): an access-log line, then the server's [C31] lines.
  const paste = [
    'something from another tool',
    F.SEED_004_ACCESS,
    F.SEED_004_ENVOY_LINES[4],
    'and a second line no parser knows',
    F.SEED_004_ENVOY_LINES[8],
  ].join('\n');

  it('keeps input order, marks unrecognised lines in place and groups one connection', async () => {
    const result = await runCli(['explain', paste]);
    expect(result.exitCode).to.equal(0);
    const out = result.stdout;
    const at = (needle: string) => {
      const i = out.indexOf(needle);
      expect(i, `${needle} in\n${out}`).to.be.greaterThan(-1);
      return i;
    };
    const first = at('? not recognised\n  something from another tool');
    const access = at('GET /get -> 503 UC');
    const connection = at('Connection C31: 2 lines');
    const second = at('? not recognised\n  and a second line no parser knows');
    expect(first).to.be.lessThan(access);
    expect(access).to.be.lessThan(connection);
    // Both [C31] lines sit under the connection, before the line pasted between them.
    expect(connection).to.be.lessThan(at('TLS error: HTTP_REQUEST'));
    expect(at('TLS error: HTTP_REQUEST')).to.be.lessThan(second);
  });

  it('shortens nothing when stdout is not a terminal, and never prints an empty "In a mesh"', async () => {
    const long = `${F.SEED_004_ACCESS} ${'x'.repeat(200)}`;
    const result = await runCli(['explain', long]);
    expect(result.stdout).not.to.contain('...');
    const report = jsonOf(await runCli(['explain', paste, '--json']));
    expect(report.data.items.map((i: { line: number }) => i.line)).to.deep.equal([2, 3, 5]);
    expect(report.data.unrecognisedLines).to.deep.equal([1, 4]);
    const all = jsonOf(await runCli(['explain', [...F.SEED_004_ENVOY_LINES].join('\n'), '--json']));
    for (const item of all.data.items) expect(item.inMesh === undefined || item.inMesh.trim() !== '').to.equal(true);
    expect(result.stdout).not.to.match(/In a mesh: *$/m);
  });
});
