/** Log decoders: access logs, Envoy logs, response flags/details, BoringSSL codes, curl output. */
export * from './diagnosis.js';
export * from './boringssl.js';
export * from './response-flags.js';
export * from './access-log.js';
export * from './envoy-log.js';
export * from './curl.js';
