/**
 * Writes a snapshot so that it is all there or not there at all: files go to
 * a private staging folder next to the target (0700 folders, 0600 files), and
 * only a finished snapshot is renamed into place (a directory), or archived to
 * a temporary file that is then renamed (a .tar.gz). An interruption (Ctrl-C,
 * SIGTERM, an error) removes the staging folder through src/lifecycle.ts.
 * Every file is redacted (redact.ts) before it touches disk.
 */
import { randomBytes } from 'node:crypto';
import { chmod, mkdir, mkdtemp, readdir, rename, rm, stat, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { create as createTar } from 'tar';
import { MeshDoctorError, usageError } from '../errors.js';
import { registerCleanup } from '../lifecycle.js';
import { addCounts, redactText, type RedactionCounts } from './redact.js';

export const FILE_MODE = 0o600;
export const DIR_MODE = 0o700;

export interface SnapshotTarget {
  /** Absolute path of the directory or archive to create. */
  path: string;
  format: 'directory' | 'archive';
}

const ARCHIVE_SUFFIX = /\.(tar\.gz|tgz)$/i;

export function resolveTarget(out: string): SnapshotTarget {
  if (out.trim() === '') throw usageError('--out is empty', 'Pass a directory or a file name ending in .tar.gz.');
  const absolute = path.resolve(out);
  return { path: absolute, format: ARCHIVE_SUFFIX.test(out) ? 'archive' : 'directory' };
}

/** Default --out: ./mesh-doctor-snapshot-20260102T030405Z.tar.gz */
export function defaultOut(now: Date): string {
  const stamp = now.toISOString().replace(/[-:]/g, '').replace(/\.\d+Z$/, 'Z');
  return `mesh-doctor-snapshot-${stamp}.tar.gz`;
}

/**
 * Refuses an existing non-empty target unless force (usage error, exit 2); an
 * empty directory is fine. Also refuses a target whose parent folder is
 * missing, and, even with force, a folder that is not a previous snapshot.
 */
export async function checkTarget(target: SnapshotTarget, force: boolean): Promise<void> {
  const parent = path.dirname(target.path);
  const parentInfo = await stat(parent).catch(() => undefined);
  if (!parentInfo?.isDirectory()) {
    throw usageError(`cannot write ${target.path}: the folder ${parent} does not exist`, 'Create it first, or pick another --out.');
  }
  const info = await stat(target.path).catch(() => undefined);
  if (!info) return;
  const entries = info.isDirectory() ? await readdir(target.path) : [];
  if (info.isDirectory() && entries.length === 0) return;
  if (!force) {
    throw usageError(`${target.path} already exists${info.isDirectory() ? ' and is not empty' : ''}`, 'Pick another --out, or pass --force to replace it.');
  }
  if (!info.isDirectory()) return;
  // --force deletes the old folder once the new snapshot is in place: only ever a previous snapshot,
  // never the working directory (`--out .`) or a folder of other files.
  const relative = path.relative(target.path, process.cwd());
  if (relative === '' || (!relative.startsWith('..') && !path.isAbsolute(relative))) {
    throw usageError(`refusing to replace ${target.path}: it holds the current directory`, 'Pick another --out.');
  }
  if (!entries.some((e) => SNAPSHOT_MARKERS.has(e))) {
    throw usageError(`refusing to replace ${target.path}: it is not a snapshot (no meta.json, proxies/ or cluster/)`, 'Pick another --out; --force only replaces a previous snapshot.');
  }
}

/** What a snapshot folder holds at its top (what --force may replace). */
const SNAPSHOT_MARKERS = new Set(['meta.json', 'proxies', 'cluster', 'versions']);

/** A file written, with the redactions applied to it. */
export interface WrittenFile {
  file: string;
  bytes: number;
  redactions: RedactionCounts;
}

/**
 * One snapshot being written. `write` redacts and stores a file below the
 * snapshot root; `commit` puts the snapshot in place; `abort` (also run by
 * the lifecycle cleanups on Ctrl-C) removes everything written so far.
 */
export class SnapshotWriter {
  /** Redactions over every file written so far. */
  readonly redactions: RedactionCounts = {};
  /** Per-file redactions (only files where something was redacted). */
  readonly redactedFiles: Record<string, RedactionCounts> = {};
  private readonly written = new Set<string>();
  private readonly pending = new Set<Promise<unknown>>();
  private state: 'open' | 'committing' | 'committed' | 'aborted' = 'open';
  private committing?: Promise<void>;
  private aborting?: Promise<void>;
  private readonly unregister: () => void;

  private constructor(
    readonly target: SnapshotTarget,
    /** Private folder next to the target holding the work in progress. */
    readonly staging: string,
    /** The snapshot root inside staging (what becomes the directory, or the archive's top folder). */
    readonly root: string,
    private readonly force: boolean,
  ) {
    this.unregister = registerCleanup(() => this.abort());
  }

  static async create(target: SnapshotTarget, options: { force?: boolean } = {}): Promise<SnapshotWriter> {
    const force = options.force ?? false;
    await checkTarget(target, force);
    const base = path.basename(target.path);
    // mkdtemp creates the folder 0700; next to the target so the final rename stays on one filesystem.
    const staging = await mkdtemp(path.join(path.dirname(target.path), `.${base}.partial-`));
    await chmod(staging, DIR_MODE);
    let root = staging;
    if (target.format === 'archive') {
      root = path.join(staging, base.replace(ARCHIVE_SUFFIX, '') || 'mesh-doctor-snapshot');
      await mkdir(root, { mode: DIR_MODE });
    }
    return new SnapshotWriter(target, staging, root, force);
  }

  /** Files written so far, relative to the snapshot root, sorted. */
  files(): string[] {
    return [...this.written].sort();
  }

  /** Redacts `text` and writes it at `relative` (a/b/c, no `..`), 0600, creating folders 0700. */
  write(relative: string, text: string): Promise<WrittenFile> {
    if (this.state !== 'open') return Promise.reject(new MeshDoctorError('interrupted', `the snapshot is ${this.state === 'aborted' ? 'cancelled' : 'closed'}; not writing ${relative}`));
    const work = this.doWrite(relative, text);
    this.pending.add(work);
    void work.finally(() => this.pending.delete(work)).catch(() => undefined);
    return work;
  }

  private async doWrite(relative: string, text: string): Promise<WrittenFile> {
    const segments = safeSegments(relative);
    const { text: clean, counts } = redactText(text);
    const full = path.join(this.root, ...segments);
    await mkdir(path.dirname(full), { recursive: true, mode: DIR_MODE });
    if (this.state === 'aborted') throw new MeshDoctorError('interrupted', `the snapshot is cancelled; not writing ${relative}`);
    await writeFile(full, clean, { mode: FILE_MODE });
    // writeFile's mode is filtered by the umask and ignored for an existing file: make it exact.
    await chmod(full, FILE_MODE);
    const file = segments.join('/');
    this.written.add(file);
    if (Object.keys(counts).length) {
      this.redactedFiles[file] = addCounts(this.redactedFiles[file] ?? {}, counts);
      addCounts(this.redactions, counts);
    }
    return { file, bytes: Buffer.byteLength(clean), redactions: counts };
  }

  /** Puts the finished snapshot in place. Once it returns, the target is complete. */
  commit(): Promise<void> {
    if (this.state !== 'open') return Promise.reject(new MeshDoctorError('interrupted', 'the snapshot was cancelled before it was complete'));
    this.state = 'committing';
    this.committing = this.doCommit().then(
      () => {
        this.state = 'committed';
        this.unregister();
      },
      async (error) => {
        this.state = 'open';
        await this.abort();
        throw error;
      },
    );
    return this.committing;
  }

  private async doCommit(): Promise<void> {
    await Promise.allSettled([...this.pending]);
    if (this.target.format === 'directory') {
      await this.replace(this.staging);
      return;
    }
    const archive = path.join(this.staging, `.${path.basename(this.target.path)}`);
    await createTar(
      { file: archive, gzip: true, cwd: this.staging, portable: true, mode: FILE_MODE },
      [path.basename(this.root)],
    );
    await chmod(archive, FILE_MODE);
    await this.replace(archive);
    await rm(this.staging, { recursive: true, force: true });
  }

  /** rename(2) `from` onto the target; an existing target (allowed by --force) is moved aside first. */
  private async replace(from: string): Promise<void> {
    try {
      await rename(from, this.target.path);
      return;
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      if (!this.force || !['ENOTEMPTY', 'EEXIST', 'EISDIR', 'ENOTDIR'].includes(code ?? '')) {
        if (code === 'ENOTEMPTY' || code === 'EEXIST') {
          throw usageError(`${this.target.path} appeared while the snapshot was being taken`, 'Pick another --out, or pass --force to replace it.');
        }
        throw error;
      }
    }
    const aside = path.join(path.dirname(this.target.path), `.${path.basename(this.target.path)}.old-${randomBytes(4).toString('hex')}`);
    await rename(this.target.path, aside);
    try {
      await rename(from, this.target.path);
    } catch (error) {
      await rename(aside, this.target.path).catch(() => undefined);
      throw error;
    }
    await rm(aside, { recursive: true, force: true });
  }

  /** Removes the work in progress. Idempotent (a second call waits for the first); a no-op once committed. */
  async abort(): Promise<void> {
    if (this.state === 'committing') await this.committing?.catch(() => undefined);
    if (this.state === 'committed') return;
    if (this.state === 'open') {
      this.state = 'aborted';
      this.unregister();
      this.aborting = (async () => {
        // Writes already started may still create folders: let them finish, then remove everything.
        await Promise.allSettled([...this.pending]);
        await rm(this.staging, { recursive: true, force: true });
      })();
    }
    await this.aborting;
  }
}

/** Splits a relative snapshot path, refusing anything that could leave the snapshot root. */
function safeSegments(relative: string): string[] {
  const segments = relative.split('/');
  for (const segment of segments) {
    if (segment === '' || segment === '.' || segment === '..' || segment.includes('\\') || segment.includes('\0')) {
      throw new MeshDoctorError('exec-failed', `refusing to write "${relative}" in a snapshot: not a plain relative path`);
    }
  }
  return segments;
}
