/**
 * Parse a pod's nat table from what people and tools actually have:
 *
 * - `iptables-save` output (`*nat`, `:CHAIN POLICY [p:b]`, `-A ...`, `COMMIT`);
 * - the istio-init container log. Checked against istio/istio
 *   tools/istio-iptables: 1.10-era `pkg/cmd/run.go` prints "Writing following
 *   contents to rules file: <path>" then the iptables-restore input (`* nat`,
 *   `-N`, `-A`, `COMMIT`), every command it runs as `<cmd> <args>` and finally
 *   runs `iptables-save` with stdout to the log; without `--restore-format` it
 *   runs `iptables -t nat -A ...` one by one (testdata/logging.golden). Later
 *   releases log through istio's logger: `<ts>\tinfo\tRunning iptables-restore
 *   with the following input:` then the input, `Running command (with wait
 *   lock): ...`, and `Command output: ` followed by the iptables-save dump
 *   (pkg/dependencies/implementation_linux.go).
 *   When a log holds several, the last IPv4 `iptables-save` dump of the nat
 *   table wins (it is the state after istio-init ran), then the restore input,
 *   then the commands;
 * - `iptables -t nat -S` (`-P`, `-N`, `-A` lines);
 * - `iptables -t nat -L` with or without `-v`, `-n`, `--line-numbers`.
 *
 * Unknown lines and options are kept (raw, `unparsed`, `matches.other`), never
 * fatal. Input with no nat rules at all is a ParseError.
 */
import { ParseError } from '../../errors.js';
import { logicalLines } from './input-lines.js';
import { LIST_CHAIN_RE, parseListing } from './listing.js';
import { parseRuleText } from './restore-text.js';
import type { AddressFamily, NatTable } from './types.js';

export * from './types.js';
export { tokenize } from './restore-text.js';
export { addressMatch, normalizeCidr, PORT_SERVICE_NAMES } from './matches.js';

export interface ParseNatTableOptions {
  /** Which family to pick when the input holds both (istio-init logs ip6tables too). Default ipv4. */
  family?: AddressFamily;
  /** Names the input in errors, e.g. "istio-init log of productpage-v1-123". */
  what?: string;
}

const MAX_INPUT_CHARS = 20_000_000;

export function parseNatTable(text: unknown, options: ParseNatTableOptions = {}): NatTable {
  const what = options.what ?? 'nat table';
  if (typeof text !== 'string') throw new ParseError(what, `expected text, got ${text === null ? 'null' : typeof text}`);
  if (text.length > MAX_INPUT_CHARS) throw new ParseError(what, `input is ${text.length} characters, more than the ${MAX_INPUT_CHARS} this parser reads`);
  const lines = logicalLines(text);
  if (lines.some((l) => LIST_CHAIN_RE.test(l.text))) return parseListing(lines, what);
  return parseRuleText(lines, what, options.family ?? 'ipv4');
}
