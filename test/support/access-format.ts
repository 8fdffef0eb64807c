/**
 * A custom meshConfig.accessLogFormat in a real dump: the lab's Envoy 1.40 dump
 * (test/fixtures/certs/lab-mtls) with every access logger's text format
 * replaced, as Istio writes the mesh's format into
 * `log_format.text_format_source.inline_string` (where the lab's dump has
 * Istio's default one).
 */
export const CUSTOM_ACCESS_FORMAT = '%START_TIME% code=%RESPONSE_CODE% flags=%RESPONSE_FLAGS% cluster=%UPSTREAM_CLUSTER%\n';

export function withCustomAccessFormat(dumpText: string): string {
  return dumpText.replace(/("inline_string":\s*)"\[%START_TIME%\][^"\\]*(?:\\.[^"\\]*)*"/g, `$1${JSON.stringify(CUSTOM_ACCESS_FORMAT)}`);
}
