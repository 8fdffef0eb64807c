// Every request the test cluster saw, so tests can assert what a run did:
// "logging was restored", "nothing else was written".

import type {Levels} from './envoy-admin.js';

export interface JournalEntry {
  seq: number;
  time: string;
  method: string;
  path: string;
  query: Record<string, string[]>;
  userAgent: string;
  /** the Accept header (kubectl asks for Tables and aggregated discovery through it) */
  accept: string;
  /** discovery (/api, /apis, /version...), api (resources), exec, log, other */
  kind: 'discovery' | 'api' | 'exec' | 'log' | 'other';
  verb?: string;
  namespace?: string;
  resource?: string;
  name?: string;
  subresource?: string;
  /** HTTP status answered (101 for an exec upgrade); undefined while pending or when never answered */
  status?: number;
  exec?: {
    container: string;
    command: string[];
    exitCode?: number;
    /** how the exec ended: completed, failed-status, hung, cut, forbidden, ... */
    outcome?: string;
  };
  logging?: {query: string; before: Levels; after: Levels; mutation: boolean; ok: boolean; httpStatus: number};
  /** POST to another state-changing Envoy admin endpoint (reset_counters, quitquitquit...) */
  adminMutation?: string;
  /** the fault that shaped this answer, if any */
  fault?: string;
}

const REVIEWS = new Set(['selfsubjectaccessreviews', 'selfsubjectrulesreviews', 'subjectaccessreviews', 'tokenreviews']);

export class Journal {
  readonly entries: JournalEntry[] = [];
  private seq = 0;

  add(e: Omit<JournalEntry, 'seq' | 'time'>): JournalEntry {
    const full: JournalEntry = {seq: ++this.seq, time: new Date().toISOString(), ...e};
    this.entries.push(full);
    return full;
  }

  /** Non-GET Kubernetes API requests other than exec/log and access reviews, plus admin calls that changed state. */
  mutations(): JournalEntry[] {
    return this.entries.filter((e) => {
      if (e.kind === 'exec') return Boolean(e.logging?.mutation || e.adminMutation);
      if (e.kind === 'log') return false;
      if (e.resource && REVIEWS.has(e.resource)) return false; // `kubectl auth can-i` creates nothing
      return e.method !== 'GET' && e.method !== 'HEAD' && e.method !== 'OPTIONS';
    });
  }

  execs(): JournalEntry[] {
    return this.entries.filter((e) => e.kind === 'exec');
  }

  loggingCalls(): JournalEntry[] {
    return this.entries.filter((e) => e.logging !== undefined);
  }

  /** Requests that reached the Kubernetes API (not discovery). */
  apiRequests(): JournalEntry[] {
    return this.entries.filter((e) => e.kind !== 'discovery');
  }

  clear(): void {
    this.entries.length = 0;
  }
}
