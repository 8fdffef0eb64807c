/**
 * Where a piece of evidence came from — the one shape for it across sources,
 * rules and findings: the command a person could run to see it themselves
 * (principle 1, evidence first) and, offline, the snapshot file it was read
 * from (relative to the snapshot root).
 */
export interface Provenance {
  /** A command a person could run to see this themselves. */
  source: string;
  /** Offline: the snapshot file it was read from, relative to the snapshot root. */
  file?: string;
}

/** A value together with where it came from. */
export type WithProvenance<T> = Provenance & T;
