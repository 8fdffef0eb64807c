import { expect } from 'chai';
import fc from 'fast-check';
import { MeshDoctorError } from '../../src/errors.js';
import { ExecStream, execStatusOutcome, upgradeFailure } from '../../src/sources/exec-transport.js';
import { classifyFailure } from '../../src/sources/kubectl.js';

const LINE = 'kubectl exec cart-5d9f -n shop -c istio-proxy -- pilot-agent request GET server_info';
const frame = (channel: number, data: string | Buffer) => Buffer.concat([Buffer.from([channel]), Buffer.isBuffer(data) ? data : Buffer.from(data)]);
const status = (body: Record<string, unknown>) => frame(3, JSON.stringify(body));

// What the API server / kubelet send (k8s.io/apimachinery Status; the test cluster sends the same shapes),
// and what kubectl 1.32 prints for them (checked against the real kubectl through test/cluster).
describe('exec stream frames (v4/v5.channel.k8s.io) become what kubectl exec returns', () => {
  it('stdout and stderr frames in order; Success is exit 0', () => {
    const s = new ExecStream(LINE);
    s.push(frame(1, '{"a":'));
    s.push(frame(2, 'warn\n'));
    s.push([frame(1, '1}'), Buffer.from('\n')]); // ws hands fragments as an array
    s.push(status({ metadata: {}, status: 'Success' }));
    expect(s.finish({ code: 1000 })).to.deep.equal({ stdout: '{"a":1}\n', stderr: 'warn\n', exitCode: 0 });
  });

  it('multi-byte characters split across frames are decoded whole', () => {
    const s = new ExecStream(LINE);
    const bytes = Buffer.from('Zürich ✓');
    s.push(frame(1, bytes.subarray(0, 2)));
    s.push(frame(1, bytes.subarray(2)));
    expect(s.finish({ code: 1000 }).stdout).to.equal('Zürich ✓');
  });

  it('NonZeroExitCode is that exit code, stderr ending as kubectl does', () => {
    const s = new ExecStream(LINE);
    s.push(frame(2, 'curl: (35) OpenSSL SSL_connect: Connection reset by peer\n'));
    s.push(status({ metadata: {}, status: 'Failure', message: 'command terminated with non-zero exit code: error executing command [curl -sv https://baidu.com], exit code 35', reason: 'NonZeroExitCode', details: { causes: [{ reason: 'ExitCode', message: '35' }] } }));
    expect(s.finish({ code: 1000 })).to.deep.equal({
      stdout: '', stderr: 'curl: (35) OpenSSL SSL_connect: Connection reset by peer\ncommand terminated with exit code 35\n', exitCode: 35,
    });
  });

  it('a missing executable (containerd: InternalError on the error channel) is exit 1 and classifies like kubectl\'s', () => {
    const s = new ExecStream(LINE);
    const message = 'Internal error occurred: error executing command in container: failed to exec in container: failed to start exec "3f1c": OCI runtime exec failed: exec failed: unable to start container process: exec: "ss": executable file not found in $PATH: unknown';
    s.push(status({ metadata: {}, status: 'Failure', message, reason: 'InternalError', details: { causes: [{ message }] }, code: 500 }));
    const result = s.finish({ code: 1000 });
    expect(result).to.deep.equal({ stdout: '', stderr: `error: ${message}\n`, exitCode: 1 });
    expect(classifyFailure(LINE, result).message).to.match(/not available in the container/);
  });

  it('a connection that drops before the status is a failure; a clean close without one is success (as client-go)', () => {
    const cut = new ExecStream(LINE);
    cut.push(frame(1, '{"conf'));
    const result = cut.finish({ code: 1006 });
    expect(result.exitCode).to.equal(1);
    expect(result.stdout).to.equal('{"conf');
    expect(result.stderr).to.match(/^error: error reading from error stream: websocket: close 1006/);
    expect(classifyFailure(LINE, result).kind).to.equal('exec-failed');
    expect(new ExecStream(LINE).finish({ code: 1000 }).exitCode).to.equal(0);
    expect(new ExecStream(LINE).finish({ code: 1005 }).exitCode).to.equal(0);
  });

  it('empty frames, stdin echo, resize and v5 close frames carry nothing', () => {
    const s = new ExecStream(LINE);
    for (const f of [Buffer.alloc(0), frame(0, 'in'), frame(4, '{"Width":80}'), frame(255, Buffer.from([0])), frame(1, '')]) s.push(f);
    s.push(frame(1, 'ok'));
    expect(s.finish({ code: 1000 })).to.deep.equal({ stdout: 'ok', stderr: '', exitCode: 0 });
  });

  it('output over the cap is the same error as kubectl\'s runner gives', () => {
    const s = new ExecStream(LINE, 8);
    s.push(frame(1, '12345678'));
    expect(() => s.push(frame(1, '9'))).to.throw(MeshDoctorError, /printed more than .* MB; the output was cut/);
    const e = new ExecStream(LINE, 4);
    expect(() => e.push(frame(2, 'too much'))).to.throw(MeshDoctorError);
  });

  it('error-channel protocol errors are reported like client-go\'s', () => {
    expect(execStatusOutcome('not json')).to.deep.include({ exitCode: 1 });
    expect(execStatusOutcome('not json').message).to.match(/^error: error stream protocol error: /);
    expect(execStatusOutcome('{"status":"Weird"}').message).to.equal('error: error stream protocol error: unknown error');
    expect(execStatusOutcome('{"status":"Failure","reason":"NonZeroExitCode"}').message).to.equal('error: error stream protocol error: details must be set');
    expect(execStatusOutcome('{"status":"Failure","reason":"NonZeroExitCode","details":{"causes":[{"reason":"ExitCode","message":"300"}]}}').message)
      .to.equal('error: error stream protocol error: invalid exit code value "300"');
    expect(execStatusOutcome('{"status":"Failure","reason":"NonZeroExitCode","details":{"causes":[{"reason":"Other","message":"1"}]}}').message)
      .to.equal('error: error stream protocol error: no ExitCode cause given');
  });
});

describe('a refused exec upgrade becomes kubectl\'s error line', () => {
  const body = (code: number, reason: string, message: string) => JSON.stringify({ kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Failure', message, reason, code });
  const cases: Array<{ name: string; code: number; reason: string; message: string; stderr: string; kind: string; matches: RegExp }> = [
    {
      name: '403 Forbidden names the RBAC verb', code: 403, reason: 'Forbidden',
      message: 'pods "cart-5d9f" is forbidden: User "dev" cannot create resource "pods/exec" in API group "" in the namespace "shop"',
      stderr: 'Error from server (Forbidden): pods "cart-5d9f" is forbidden: User "dev" cannot create resource "pods/exec" in API group "" in the namespace "shop"\n',
      kind: 'forbidden', matches: /your user may not create pods\/exec in namespace shop/,
    },
    {
      name: '404 pod not found', code: 404, reason: 'NotFound', message: 'pods "nope" not found',
      stderr: 'Error from server (NotFound): pods "nope" not found\n', kind: 'not-found', matches: /pods "nope" not found/,
    },
    {
      name: '400 container not in the pod is no-sidecar', code: 400, reason: 'BadRequest', message: 'container istio-proxy is not valid for pod legacy-0',
      stderr: 'Error from server (BadRequest): container istio-proxy is not valid for pod legacy-0\n', kind: 'no-sidecar', matches: /no istio-proxy container/,
    },
    {
      name: '401 asks to log in', code: 401, reason: 'Unauthorized', message: 'Unauthorized',
      stderr: 'error: You must be logged in to the server (Unauthorized)\n', kind: 'exec-failed', matches: /You must be logged in/,
    },
    {
      name: 'a Status without a reason', code: 500, reason: '', message: 'boom',
      stderr: 'Error from server: boom\n', kind: 'exec-failed', matches: /boom/,
    },
  ];
  for (const c of cases) {
    it(c.name, () => {
      const result = upgradeFailure(c.code, body(c.code, c.reason, c.message));
      expect(result).to.deep.equal({ stdout: '', stderr: c.stderr, exitCode: 1 });
      const error = classifyFailure(LINE, result!, 'GET server_info on cart-5d9f.shop');
      expect(error.kind).to.equal(c.kind);
      expect(error.message).to.match(c.matches);
    });
  }

  it('an answer that is not a Status (kubectl proxy\'s own refusals, a gateway) is no answer: the caller falls back', () => {
    expect(upgradeFailure(403, 'Forbidden\n')).to.equal(undefined);
    expect(upgradeFailure(502, '')).to.equal(undefined);
    expect(upgradeFailure(500, '{"kind":"Pod"}')).to.equal(undefined);
    expect(upgradeFailure(500, '[1,2]')).to.equal(undefined);
  });
});

describe('property: arbitrary frames and answers never crash the decoder', () => {
  const frames = fc.array(fc.oneof(
    fc.uint8Array({ maxLength: 64 }).map((a) => Buffer.from(a)),
    fc.tuple(fc.constantFrom(1, 2, 3), fc.string({ maxLength: 40 })).map(([c, s]) => frame(c, s)),
    fc.jsonValue().map((v) => frame(3, JSON.stringify(v) ?? '')),
    fc.record({
      status: fc.constantFrom('Success', 'Failure', 'Other'),
      reason: fc.constantFrom('NonZeroExitCode', 'InternalError', ''),
      details: fc.option(fc.record({ causes: fc.array(fc.record({ reason: fc.constantFrom('ExitCode', 'x'), message: fc.oneof(fc.string(), fc.nat().map(String)) })) })),
    }).map((st) => status(st)),
  ), { maxLength: 12 });

  it('ExecStream push/finish throw nothing but a MeshDoctorError, and exit codes are 0..255', () => {
    fc.assert(fc.property(frames, fc.integer({ min: 1000, max: 4999 }), fc.nat({ max: 128 }), (fs, code, cap) => {
      const s = new ExecStream(LINE, cap);
      try {
        for (const f of fs) s.push(f);
        const result = s.finish({ code, reason: 'r' });
        expect(result.exitCode).to.be.within(0, 255);
        expect(typeof result.stdout).to.equal('string');
        if (result.exitCode !== 0) expect(classifyFailure(LINE, result)).to.be.instanceOf(MeshDoctorError);
      } catch (error) {
        if (!(error instanceof MeshDoctorError)) throw error;
      }
    }), { numRuns: 500 });
  });

  it('execStatusOutcome and upgradeFailure never throw', () => {
    fc.assert(fc.property(fc.oneof(fc.string(), fc.jsonValue().map((v) => JSON.stringify(v) ?? '')), fc.integer({ min: 100, max: 599 }), (text, code) => {
      const outcome = execStatusOutcome(text);
      expect(outcome.exitCode).to.be.within(0, 255);
      const answer = upgradeFailure(code, text);
      if (answer) expect(answer.exitCode).to.equal(1);
    }), { numRuns: 500 });
  });
});
