/** The pod's nat table: parse it, walk a packet through it, print it. */
export * from './types.js';
export { parseNatTable, addressMatch, normalizeCidr, tokenize, type ParseNatTableOptions } from './parse.js';
export { walkPacket, parsePacketSpec, formatWalk, verdictText, type Hook, type Packet, type PacketWalk, type RuleRef, type StepAction, type Verdict, type WalkOptions, type WalkStep } from './walk.js';
export { formatChains, ruleToSave, referenceCounts, type FormatChainsOptions } from './format.js';
