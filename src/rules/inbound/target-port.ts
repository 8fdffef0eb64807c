/**
 * MD4004: the Service's targetPort matches no container port.
 *
 * Kubernetes forwards a numeric targetPort whether or not a container declares
 * it, so an undeclared number is only a problem when nothing listens there
 * (then the declared ports say where the app really is). A named targetPort
 * that matches no container port name gets no endpoint for the pod at all.
 */
import { makeFinding } from '../../findings/make.js';
import { whoListensOn } from '../../model/sockets.js';
import { containerPorts } from '../../model/istio/services.js';
import { evidenceOf, outcome, type InboundFacts, type InboundCheck } from './facts.js';

export function targetPortMismatch(facts: InboundFacts): InboundCheck {
  const { port, pod } = facts;
  const service = port.service;
  const sp = port.servicePort;
  if (!service || !sp) return outcome([], [`${port.label}: no Service port, nothing to compare`]);
  const declared = containerPorts(pod.object).filter((c) => c.container !== 'istio-proxy' && c.protocol === 'TCP');
  const target = sp.targetPort ?? sp.port;
  const serviceSource = `kubectl get service ${service.name} -n ${service.namespace} -o yaml`;
  const podSource = `kubectl get pod ${pod.name} -n ${pod.namespace} -o jsonpath='{.spec.containers[*].ports}'`;
  const declaredText = declared.length > 0 ? declared.map((c) => `${c.container}: containerPort ${c.containerPort}${c.name ? ` (name ${c.name})` : ''}`).join('\n') : '(no container declares a port)';
  const serviceExcerpt = `ports:\n- port: ${sp.port}\n${sp.name ? `  name: ${sp.name}\n` : ''}  targetPort: ${typeof target === 'string' ? target : target}`;

  if (!port.resolution.resolved) {
    const suggestion = declared[0];
    return outcome([
      makeFinding('MD4004', {
        message: `Service ${service.namespace}/${service.name} port ${sp.port} has targetPort "${target}", and no container of pod ${pod.name} declares a port with that name, so the pod gets no endpoint for this port and nothing reaches its sidecar.`,
        target: service.ref,
        evidence: [
          { source: serviceSource, excerpt: serviceExcerpt },
          { source: podSource, excerpt: declaredText },
        ],
        remediation: {
          text: suggestion
            ? `Point targetPort at a declared port (name "${suggestion.name ?? suggestion.containerPort}" / ${suggestion.containerPort}), or name the container port "${target}".`
            : `Declare the container port with name "${target}", or use the port number as targetPort.`,
          ...(suggestion ? { patch: servicePatch(service.name, service.namespace, sp.index, sp.port, sp.name, suggestion.name ?? suggestion.containerPort) } : {}),
        },
      }),
    ], [port.resolution.because]);
  }

  if (typeof target !== 'number' || declared.length === 0 || declared.some((c) => c.containerPort === target)) {
    return outcome(); // resolution.because is already in the Service-ports step
  }
  // Numeric and undeclared: fine if something listens there.
  const sockets = facts.sockets;
  const listeners = sockets ? whoListensOn(sockets.value, target, pod.ip ? { podIp: pod.ip } : {}) : undefined;
  if (listeners && listeners.sockets.length > 0) {
    return outcome([], [`targetPort ${target} is not declared by any container, but something listens on it (${listeners.sockets.map((s) => `${s.address}:${s.port}`).join(', ')}); Kubernetes forwards to it anyway`]);
  }
  const listenedDeclared = sockets ? declared.filter((c) => whoListensOn(sockets.value, c.containerPort).sockets.length > 0) : [];
  const better = listenedDeclared[0] ?? (declared.length === 1 ? declared[0] : undefined);
  const evidence = [
    { source: serviceSource, excerpt: serviceExcerpt },
    { source: podSource, excerpt: declaredText },
  ];
  if (sockets) {
    const lines = sockets.value.filter((s) => s.port === target || declared.some((c) => c.containerPort === s.port)).map((s) => s.raw);
    evidence.push(evidenceOf(sockets, lines.length > 0 ? lines.join('\n') : `(nothing listens on ${target})`, `nothing listens on targetPort ${target}${listenedDeclared.length ? `; the app listens on ${listenedDeclared.map((c) => c.containerPort).join(', ')}` : ''}`));
  }
  return outcome([
    makeFinding('MD4004', {
      ...(sockets ? {} : { severity: 'warning' as const }),
      message: `Service ${service.namespace}/${service.name} port ${sp.port} sends to targetPort ${target}, but the pod's containers declare ${declared.map((c) => c.containerPort).join(', ')}${sockets ? ` and nothing listens on ${target}` : ' (listening sockets unavailable: cannot confirm nothing listens on it)'}.`,
      target: service.ref,
      evidence,
      remediation: {
        text: better
          ? `Set targetPort to ${better.name ? `"${better.name}" (` : ''}${better.containerPort}${better.name ? ')' : ''}, the port the app ${listenedDeclared.includes(better) ? 'listens on' : 'declares'}; or make the app listen on ${target}.`
          : `Set targetPort to the port the app listens on, or make the app listen on ${target}.`,
        ...(better ? { patch: servicePatch(service.name, service.namespace, sp.index, sp.port, sp.name, better.containerPort) } : {}),
        command: `kubectl get endpointslices -n ${service.namespace} -l kubernetes.io/service-name=${service.name} -o yaml`,
      },
    }),
  ], [`targetPort ${target} is not a declared container port (${declared.map((c) => c.containerPort).join(', ')})`]);
}

function servicePatch(name: string, namespace: string, _index: number, port: number, portName: string | undefined, targetPort: number | string): string {
  return [
    'apiVersion: v1',
    'kind: Service',
    'metadata:',
    `  name: ${name}`,
    `  namespace: ${namespace}`,
    'spec:',
    '  ports:',
    `  - port: ${port}`,
    ...(portName ? [`    name: ${portName}`] : []),
    `    targetPort: ${typeof targetPort === 'number' ? targetPort : JSON.stringify(targetPort)}`,
  ].join('\n');
}
