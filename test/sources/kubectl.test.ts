import { expect } from 'chai';
import { classifyFailure } from '../../src/sources/kubectl.js';
import { shellQuote } from '../../src/sources/shell-quote.js';

// Real kubectl 1.32 stderr, captured on this project's machines (klog lines included, as kubectl prints them),
// and the API server's Status messages as kubectl renders them (k8s.io/apimachinery StatusError).
const KLOG = 'E1121 06:55:26.599134   19307 memcache.go:265] "Unhandled Error" err="couldn\'t get current server API group list: Get \\"http://127.0.0.1:1/api?timeout=32s\\": dial tcp 127.0.0.1:1: connect: connection refused"';
const cases: Array<{ name: string; stderr: string; kind: string; message: RegExp; suggestion: RegExp }> = [
  {
    name: 'RBAC Forbidden on pods/exec names the verb and resource',
    stderr: 'Error from server (Forbidden): pods "httpbin-1" is forbidden: User "dev" cannot create resource "pods/exec" in API group "" in the namespace "foo"',
    kind: 'forbidden', message: /may not create pods\/exec in namespace foo/, suggestion: /"create" on "pods\/exec"/,
  },
  {
    name: 'RBAC Forbidden on an Istio kind names its group',
    stderr: 'Error from server (Forbidden): serviceentries.networking.istio.io is forbidden: User "dev" cannot list resource "serviceentries" in API group "networking.istio.io" at the cluster scope',
    kind: 'forbidden', message: /may not list serviceentries\.networking\.istio\.io/, suggestion: /"list" on "serviceentries\.networking\.istio\.io"/,
  },
  { name: 'pod not found', stderr: 'Error from server (NotFound): pods "nope" not found', kind: 'not-found', message: /pods "nope" not found/, suggestion: /name\.namespace/ },
  { name: 'no istio-proxy container', stderr: 'Error from server (BadRequest): container istio-proxy is not valid for pod legacy-0', kind: 'no-sidecar', message: /no istio-proxy container/, suggestion: /sidecar/ },
  { name: 'no current context', stderr: 'error: current-context is not set', kind: 'no-context', message: /no usable Kubernetes context/, suggestion: /use-context/ },
  { name: 'no current context to minify (kubectl config view --minify)', stderr: 'error: current-context must exist in order to minify', kind: 'no-context', message: /current-context must exist/, suggestion: /use-context/ },
  { name: 'unknown --context (kubectl config view)', stderr: 'error: cannot locate context nosuch', kind: 'no-context', message: /cannot locate context nosuch/, suggestion: /--context/ },
  { name: 'unknown --context', stderr: 'Error in configuration: context was not found for specified context: nosuch', kind: 'no-context', message: /context was not found/, suggestion: /--context/ },
  { name: 'no kubeconfig at all (kubectl falls back to localhost:8080)', stderr: `${KLOG}\nThe connection to the server localhost:8080 was refused - did you specify the right host or port?`, kind: 'no-context', message: /localhost:8080 was refused/, suggestion: /--from/ },
  { name: 'API server down, klog noise skipped', stderr: `${KLOG}\n${KLOG}\nThe connection to the server 127.0.0.1:1 was refused - did you specify the right host or port?`, kind: 'unreachable', message: /^the cluster does not answer \(The connection to the server 127\.0\.0\.1:1 was refused/, suggestion: /cluster-info/ },
  { name: 'missing executable in the container', stderr: 'error: Internal error occurred: error executing command in container: failed to exec in container: OCI runtime exec failed: exec failed: unable to start container process: exec: "ss": executable file not found in $PATH: unknown', kind: 'exec-failed', message: /not available in the container/, suggestion: /falls back/ },
];

describe('kubectl failures become errors that name the fix', () => {
  for (const c of cases) {
    it(c.name, () => {
      const error = classifyFailure('kubectl get pods', { stdout: '', stderr: c.stderr, exitCode: 1 });
      expect(error.kind).to.equal(c.kind);
      expect(error.message).to.match(c.message);
      expect(error.message).not.to.match(/memcache\.go/);
      expect(error.suggestion).to.match(c.suggestion);
      expect(error.exitCode).to.equal(1);
    });
  }

  it('quotes arguments only where a shell needs it', () => {
    expect(shellQuote('config_dump')).to.equal('config_dump');
    expect(shellQuote('config_dump?include_eds')).to.equal("'config_dump?include_eds'");
    expect(shellQuote("it's")).to.equal("'it'\\''s'");
  });
});
