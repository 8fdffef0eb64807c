/**
 * The nat table of a pod, as the kernel evaluates it: chains of rules in order.
 * Istio's istio-init (or the CNI plugin) writes it; `mesh-doctor iptables` and
 * `why-inbound-fails` read it to explain where a packet goes.
 */

/** Where the table was read from. */
export type TableFormat =
  | 'iptables-save' // `iptables-save` / `iptables-save -t nat` (chains declared with `:NAME POLICY [p:b]`)
  | 'iptables-restore' // the iptables-restore input istio-init logs before applying it (`* nat`, `-N`, `-A`, `COMMIT`)
  | 'iptables-commands' // `iptables -t nat -A ...` command lines (istio-init without restore format), or `iptables -t nat -S`
  | 'iptables-list'; // `iptables -t nat -L [-v] [-n] [--line-numbers]`

export type AddressFamily = 'ipv4' | 'ipv6';

export interface Negatable<T> {
  value: T;
  negated: boolean;
}

/** `-s`/`-d` of a rule. `cidr` is normalized (`127.0.0.6/32`); a hostname that cannot be resolved offline keeps `host` and an empty `cidr`. */
export interface AddressMatch {
  cidr: string;
  negated: boolean;
  /** The name as printed by `iptables -L` without `-n` (`localhost`), when there was one. */
  host?: string;
}

/** `--dport`/`--sport` (or multiport lists): inclusive ranges. Service names that are not known offline stay in `names`. */
export interface PortMatch {
  ranges: Array<[number, number]>;
  negated: boolean;
  /** As written (`ssh`, `15008`, `1000:2000`). */
  text: string;
  unresolved?: string[];
}

export interface PortRange {
  from: number;
  to: number;
}

export interface RuleMatches {
  /** `-m` modules named (`owner`, `tcp`, `comment`...). */
  modules: string[];
  /** `-m owner --uid-owner 1337` / `! --uid-owner 1337` / `owner UID match 1337` (value may be a range `a-b` or a user name). */
  uidOwner?: Negatable<string>;
  gidOwner?: Negatable<string>;
  dport?: PortMatch;
  sport?: PortMatch;
  comment?: string;
  /** Match options this model does not interpret, verbatim (`--ctstate RELATED,ESTABLISHED`, `ADDRTYPE match dst-type LOCAL`). */
  other: string[];
}

export interface Counters {
  packets: number;
  bytes: number;
  /** True when read from `-L -v` output that rounds (`113K`). */
  approximate?: boolean;
}

export interface Rule {
  chain: string;
  /** `-j`/`-g` target; undefined for a rule without one (it only counts packets). */
  target?: string;
  /** `-g` (goto) instead of `-j`. */
  goto?: boolean;
  /** undefined means every protocol (`all`). */
  protocol?: Negatable<string>;
  in?: Negatable<string>;
  out?: Negatable<string>;
  /** False for `iptables -L` without `-v`: the listing does not show interfaces, so `in`/`out` are unknown, not absent. */
  interfacesShown: boolean;
  source?: AddressMatch;
  destination?: AddressMatch;
  matches: RuleMatches;
  /** `REDIRECT --to-ports 15001` / `redir ports 15001`. */
  redirectPorts?: PortRange;
  /** Target options verbatim (`--to-ports 15006`, `LOG level warning prefix "x"`). */
  targetOptions: string[];
  counters?: Counters;
  /** The rule's line as it appeared in the input (log prefixes removed). */
  raw: string;
  /** 1-based line of the input the rule came from. */
  lineNumber: number;
  /** 1-based position in its chain (what `iptables -L --line-numbers` prints). */
  position: number;
}

export interface Chain {
  name: string;
  builtin: boolean;
  /** ACCEPT/DROP for builtin chains when the input says; undefined when it does not (restore input, command logs). */
  policy?: string;
  policyCounters?: Counters;
  /** As printed by `iptables -L` (`(3 references)`); otherwise undefined and computed when formatting. */
  references?: number;
  rules: Rule[];
}

export interface UnparsedLine {
  lineNumber: number;
  text: string;
  reason: string;
}

export interface NatTable {
  format: TableFormat;
  family: AddressFamily;
  chains: Map<string, Chain>;
  /** Lines inside the table that were not understood; kept so a reader can see what was skipped. */
  unparsed: UnparsedLine[];
  /** Notes about choices the parser made (which dump of a log it used, assumptions). */
  notes: string[];
}

/** The four chains the kernel's nat table has built in. */
export const NAT_BUILTIN_CHAINS = ['PREROUTING', 'INPUT', 'OUTPUT', 'POSTROUTING'] as const;

export function isBuiltinNatChain(name: string): boolean {
  return (NAT_BUILTIN_CHAINS as readonly string[]).includes(name);
}
