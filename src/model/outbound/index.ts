/** The outbound-connection simulation over a sidecar's Envoy config (pure; no I/O). */
export * from './connection.js';
export * from './ip.js';
export * from './filter-chain-match.js';
export * from './http-route.js';
export * from './simulate.js';
export * from './owners.js';
export * from './host-address.js';
