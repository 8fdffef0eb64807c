/**
 * Whether a proxy writes its access log where `kubectl logs` reads it, from
 * its serving listeners. Istio puts an `access_log` on every HTTP connection
 * manager and tcp_proxy, and on the listener itself for connections no chain
 * takes, when meshConfig.accessLogFile or a Telemetry resource asks for one
 * (pilot/pkg/networking/core/accesslog.go; the oracle's dumps with
 * `accessLogFile: /dev/stdout`: a FileAccessLog to /dev/stdout in each). Istio's
 * default profile sets neither: then the istio-proxy log holds Envoy's own
 * lines only, and no failed request can show in it. The bootstrap's admin
 * access_log (/dev/null) is not the proxy's traffic.
 */
import type { ConfigDump } from './config-dump.js';
import { isObject, obj, objs, str, type JsonObject } from './json.js';

export interface AccessLogging {
  /** Some listener logs to the container's stdout or stderr. */
  toContainerLog: boolean;
  /** Where the listeners log: a file path, or the logger's name for other sinks (gRPC, OpenTelemetry). */
  sinks: string[];
  /**
   * Text formats of the container loggers that are not the layout mesh-doctor reads
   * (meshConfig.accessLogFormat replaced it): its lines cannot be told from other output.
   */
  customFormats: string[];
}

/**
 * Istio's default TEXT format and Envoy's own both open with the start time and
 * the request line (pilot/pkg/model/telemetry_logging.go; Envoy's default
 * format): what model/logs/access-log.ts reads, extra fields appended included.
 * JSON (`accessLogEncoding: JSON`) is read too; no log_format is Envoy's default.
 */
const READ_LAYOUT = /^\[%START_TIME%\] "%REQ\(:METHOD\)%/;

const CONTAINER_STREAMS = new Set(['/dev/stdout', '/dev/stderr']);

export function accessLogging(dump: ConfigDump): AccessLogging {
  const sinks = new Set<string>();
  const customFormats = new Set<string>();
  for (const listener of dump.listeners) {
    const loggers = [...objs(listener.raw, 'access_log')];
    for (const chain of listener.allFilterChains) {
      for (const filter of chain.filters) loggers.push(...objs(filter.typedConfig, 'access_log'));
    }
    for (const logger of loggers) {
      const sink = sinkOf(logger);
      sinks.add(sink);
      const format = textFormatOf(logger);
      if (CONTAINER_STREAMS.has(sink) && format !== undefined && !READ_LAYOUT.test(format)) customFormats.add(format);
    }
  }
  const all = [...sinks].sort();
  return { toContainerLog: all.some((s) => CONTAINER_STREAMS.has(s)), sinks: all, customFormats: [...customFormats] };
}

/** A logger's text format (`log_format.text_format_source.inline_string`, or the older `text_format`), if it has one. */
function textFormatOf(logger: JsonObject): string | undefined {
  const format = obj(obj(logger, 'typed_config'), 'log_format');
  return str(obj(format, 'text_format_source'), 'inline_string') ?? str(format, 'text_format');
}

/** A file logger's path; Envoy's stdout/stderr loggers as those streams; any other logger by its name. */
function sinkOf(logger: JsonObject): string {
  const config = obj(logger, 'typed_config');
  const type = isObject(config) ? String(config['@type'] ?? '') : '';
  const name = str(logger, 'name') ?? '';
  if (/StdoutAccessLog$/.test(type) || name === 'envoy.access_loggers.stdout') return '/dev/stdout';
  if (/StderrAccessLog$/.test(type) || name === 'envoy.access_loggers.stderr') return '/dev/stderr';
  return str(config, 'path') ?? (name || type || 'an unnamed logger');
}
