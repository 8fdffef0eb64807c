/** The Envoy config-dump model: typed views over /config_dump and istioctl's listener table. */
export * from './config-dump.js';
export * from './listeners.js';
export * from './clusters.js';
export * from './routes.js';
export * from './endpoints.js';
export * from './secrets.js';
export * from './versions.js';
export * from './tls.js';
export * from './listener-table.js';
export {
  type JsonObject,
  type SocketAddress,
  type IstioConfigRef,
  formatAddress,
  parseIstioConfigRef,
} from './json.js';
