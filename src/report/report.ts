import { SEVERITY_RANK, type Finding, type Severity, type VerdictConfidence, type VerdictStatus } from '../findings/finding.js';
import type { MeshVersion, VersionSource } from '../model/mesh-version.js';

export type { VerdictStatus } from '../findings/finding.js';

/**
 * The versioned machine-readable result of every command (`-o json|yaml`).
 * Bump the version when a field changes meaning or disappears; adding a field
 * is compatible. docs/report-schema.md documents it.
 */
export const REPORT_SCHEMA = 'mesh-doctor.report/v1';

export type StepStatus = 'ok' | 'found' | 'skipped' | 'failed';

/** One step of a guided diagnosis: what it looked at and what that showed. */
export interface Step {
  title: string;
  status: StepStatus;
  /** Commands (or snapshot files) consulted. */
  lookedAt: string[];
  /** One line per observation. */
  saw: string[];
}

/** Hears about steps as they run, to print a live transcript (render/progress). */
export interface StepObserver {
  started(title: string): void;
  finished(step: Step): void;
  /** How far the running step has got (`checked 143/1000 proxies`); false when the observer shows no progress. */
  progress?(text: string): boolean;
}

/** A rule that could not run, and why (its evidence was missing). Never dropped silently. */
export interface Skipped {
  rule: string;
  reason: string;
}


export interface Report<Data = unknown> {
  schema: typeof REPORT_SCHEMA;
  command: string;
  /** What the command was run on: "pod sleep-7f.foo", "mesh", ... */
  subject?: string;
  source: { mode: 'live' | 'snapshot' | 'none'; label: string };
  versions?: ReportVersions;
  steps: Step[];
  findings: Finding[];
  skipped: Skipped[];
  /** confidence: set when the verdict rests on part of the evidence (which sources were missing). */
  verdict: { status: VerdictStatus; summary: string; confidence?: VerdictConfidence };
  /** Command-specific payload (listener rows, an explanation, ...). */
  data?: Data;
}

/** The versions a run assumed, where they came from (model/mesh-version.ts), and proxy/control-plane skew. */
export interface ReportVersions {
  istio?: string;
  envoy?: string;
  /** proxy | versions-file | proxy-image | istiod-image | unknown */
  source?: VersionSource;
  /** Exactly where: `server_info of sleep.foo`, `versions`, `image docker.io/istio/proxyv2:1.7.4 of pod foo/sleep`. */
  from?: string;
  controlPlane?: string;
  skew?: string;
}

/** The report's `versions` from the run's one version decision. */
export function reportVersions(v: MeshVersion): ReportVersions {
  return {
    ...(v.istio ? { istio: v.istio.raw } : {}),
    ...(v.envoy ? { envoy: v.envoy } : {}),
    source: v.source,
    ...(v.from ? { from: v.from } : {}),
    ...(v.controlPlane ? { controlPlane: v.controlPlane.raw } : {}),
    ...(v.skew ? { skew: v.skew } : {}),
  };
}

/** What a report is made of; the envelope (schema, key order, empty lists) is added by buildReport. */
export interface ReportParts<Data> {
  command: string;
  subject?: string;
  source: { mode: Report['source']['mode']; label: string };
  versions?: Report['versions'];
  /** The transcript: steps, findings and skipped rules (a diagnosis' Guide has all three). */
  transcript?: { steps: Step[]; findings: Finding[]; skipped: Skipped[] };
  verdict: Report['verdict'];
  data?: Data;
}

/** The one place a report's envelope is built: every command's JSON has the same keys in the same order. */
export function buildReport<Data>(parts: ReportParts<Data>): Report<Data> {
  const { transcript } = parts;
  return {
    schema: REPORT_SCHEMA,
    command: parts.command,
    ...(parts.subject !== undefined ? { subject: parts.subject } : {}),
    source: { mode: parts.source.mode, label: parts.source.label },
    ...(parts.versions ? { versions: parts.versions } : {}),
    steps: transcript?.steps ?? [],
    findings: transcript?.findings ?? [],
    skipped: transcript?.skipped ?? [],
    verdict: parts.verdict,
    ...(parts.data !== undefined ? { data: parts.data } : {}),
  };
}

/** The envelope of a run that failed before it had a report (printed with --json). */
/** The verdict's confidence in words, when it rests on part of the evidence: the level and what was not read. */
export function confidenceText(report: Pick<Report, 'verdict'>): string | undefined {
  const c = report.verdict.confidence;
  return c ? `${c.level}; not read: ${c.missing.join('; ')}` : undefined;
}

export function buildErrorReport(command: string | undefined, error: { kind: string; message: string; suggestion?: string; exitCode: number }) {
  return { schema: REPORT_SCHEMA, command, error: { kind: error.kind, message: error.message, suggestion: error.suggestion, exitCode: error.exitCode } };
}

export type FailOn = Severity | 'never';

/** Exit code 3 when any finding is at or above --fail-on (design: "Output and exit codes"). */
export function hasFindingsAtOrAbove(report: Report, failOn: FailOn): boolean {
  if (failOn === 'never') return false;
  return report.findings.some((f) => SEVERITY_RANK[f.severity] >= SEVERITY_RANK[failOn]);
}

/**
 * The exit code of a finished run: 3 when a finding is at or above --fail-on
 * (a fault seen outweighs what could not be seen); else 4 when the verdict is
 * inconclusive, whatever --fail-on says, since --fail-on ranks findings and an
 * unchecked path is not one; else 0.
 */
export function exitCodeOf(report: Report, failOn: FailOn): 0 | 3 | 4 {
  if (hasFindingsAtOrAbove(report, failOn)) return 3;
  return report.verdict.status === 'inconclusive' ? 4 : 0;
}

/** Findings worst first, then by code, for stable output. */
export function sortFindings(findings: Finding[]): Finding[] {
  return [...findings].sort((a, b) => SEVERITY_RANK[b.severity] - SEVERITY_RANK[a.severity] || a.code.localeCompare(b.code));
}
