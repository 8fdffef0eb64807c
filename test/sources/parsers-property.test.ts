import { expect } from 'chai';
import fc from 'fast-check';
import { parseDuration } from '../../src/duration.js';
import { MeshDoctorError, ParseError } from '../../src/errors.js';
import { parseActiveLoggers } from '../../src/model/envoy-logging.js';
import { parseKubeObjects } from '../../src/model/k8s/resources.js';
import { filterLog } from '../../src/sources/log-filter.js';
import { parsePodArgument } from '../../src/sources/pod-argument.js';
import { formatRecordedProbe, parseRecordedProbe } from '../../src/sources/probes.js';

// Arbitrary input never throws anything but the typed errors callers handle.
function throwsOnly<T extends Error>(type: new (...args: any[]) => T, run: () => unknown): void {
  try {
    run();
  } catch (error) {
    expect(error).to.be.instanceOf(type);
  }
}

describe('parsers of the sources and base layers: arbitrary input', () => {
  it('parseKubeObjects throws only ParseError, and keeps only objects with kind, apiVersion and a name', () => {
    fc.assert(fc.property(fc.oneof(fc.string(), fc.jsonValue().map((v) => JSON.stringify(v))), (text) => {
      throwsOnly(ParseError, () => {
        for (const object of parseKubeObjects(text, 'arbitrary')) {
          expect(object.kind).to.be.a('string');
          expect(object.apiVersion).to.be.a('string');
          expect(object.metadata.name).to.be.a('string');
        }
      });
    }), { numRuns: 300 });
  });

  it('parseActiveLoggers throws only ParseError; what it returns are valid Envoy levels', () => {
    const line = fc.tuple(fc.stringMatching(/^[a-z_]{1,12}$/), fc.constantFrom('trace', 'debug', 'info', 'warning', 'warn', 'error', 'critical', 'off', 'loud'))
      .map(([name, level]) => `  ${name}: ${level}`);
    const text = fc.oneof(fc.string(), fc.array(line).map((lines) => ['active loggers:', ...lines].join('\n')));
    fc.assert(fc.property(text, (t) => {
      throwsOnly(ParseError, () => {
        for (const level of parseActiveLoggers(t).values()) expect(['trace', 'debug', 'info', 'warning', 'error', 'critical', 'off']).to.include(level);
      });
    }), { numRuns: 300 });
  });

  it('parseRecordedProbe never throws, and reads back what formatRecordedProbe wrote', () => {
    fc.assert(fc.property(fc.string(), (text) => { parseRecordedProbe(text); }), { numRuns: 300 });
    const body = fc.string().filter((s) => !s.includes('# --- stderr ---') && !/^# (command|container|exit): /m.test(s));
    fc.assert(fc.property(fc.stringMatching(/^[a-z][\w -]{0,20}[\w]$/), fc.integer({ min: 0, max: 255 }), body, body, (command, exitCode, stdout, stderr) => {
      const out = stdout.endsWith('\n') || stdout === '' ? stdout : `${stdout}\n`;
      const probe = parseRecordedProbe(formatRecordedProbe({ command, container: 'app', exitCode, stdout: out, stderr }));
      expect(probe).to.deep.include({ command: command.split(/\s+/).join(' '), container: 'app', exitCode, stdout: out, stderr });
    }), { numRuns: 200 });
  });

  it('parseDuration throws only MeshDoctorError (usage), and never returns a negative or NaN', () => {
    fc.assert(fc.property(fc.oneof(fc.string(), fc.stringMatching(/^(\d{1,3}(ms|s|m|h)){1,3}$/)), (text) => {
      throwsOnly(MeshDoctorError, () => {
        const ms = parseDuration(text, '--timeout');
        expect(ms).to.be.at.least(0);
      });
    }), { numRuns: 300 });
  });

  it('parsePodArgument always yields a name and a namespace', () => {
    fc.assert(fc.property(fc.string({ minLength: 1 }), fc.stringMatching(/^[a-z]{1,8}$/), (argument, namespace) => {
      const ref = parsePodArgument(argument, namespace);
      expect(ref.name).to.be.a('string');
      expect(ref.namespace).to.be.a('string');
    }), { numRuns: 300 });
  });

  it('filterLog never throws, and --tail keeps at most that many lines', () => {
    fc.assert(fc.property(fc.string(), fc.option(fc.string()), fc.option(fc.nat(20)), (text, sinceTime, tail) => {
      const out = filterLog(text, { sinceTime: sinceTime ?? undefined, tail: tail ?? undefined });
      if (tail !== null) expect(out.split('\n').filter((_, i, all) => i < all.length - 1).length).to.be.at.most(tail);
    }), { numRuns: 300 });
  });
});
