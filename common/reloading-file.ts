/**
 * A configuration file that is reloaded without a restart: on change (stat polling, which survives
 * editors' rename-and-replace and Kubernetes ConfigMap symlink swaps, unlike fs.watch) and on
 * demand (SIGHUP). A file that fails to read or parse is logged and the last good value stays in
 * force (Mimir's runtime-config behaviour).
 */
import { readFileSync, unwatchFile, watchFile, type Stats } from 'node:fs';

/** Structured log sink: `msg` is a constant, variables go in `fields`. */
export type ReloadLog = (level: 'info' | 'warn' | 'error', msg: string, fields: Record<string, unknown>) => void;

/** Options of ReloadingFile. */
export interface ReloadingFileOptions<T> {
  readonly path: string;
  /** Parses the file text; throws on a broken file (the message is logged). */
  readonly parse: (text: string) => T;
  readonly log: ReloadLog;
  /** What the file configures, for log lines (`runtime config`, `auth`). */
  readonly what: string;
  /** Reads the file (default readFileSync utf8); injectable for tests. */
  readonly read?: (path: string) => string;
}

/** The current parsed value of a reloaded file; `current` is swapped atomically on a good reload. */
export class ReloadingFile<T> {
  private _current: T;
  private _watching = false;
  private readonly _read: (path: string) => string;
  /** Good reloads since start (the initial load not counted). */
  reloads = 0;
  /** Failed reloads since start. */
  failures = 0;

  /** Loads the file once; throws when the initial load fails (fail fast at startup). */
  constructor(private readonly _opts: ReloadingFileOptions<T>) {
    this._read = _opts.read ?? ((p) => readFileSync(p, 'utf8'));
    this._current = _opts.parse(this._read(_opts.path));
  }

  /** The last successfully loaded value. */
  get current(): T {
    return this._current;
  }

  /** Re-reads the file; returns true when the new value is now in force, false when the old one stays. */
  reload(): boolean {
    const { path, what, log } = this._opts;
    try {
      this._current = this._opts.parse(this._read(path));
      this.reloads++;
      log('info', 'config reloaded', { what, path });
      return true;
    } catch (err) {
      this.failures++;
      log('error', 'config reload failed, keeping the last good one', { what, path, err: err instanceof Error ? err.message : String(err) });
      return false;
    }
  }

  /** Starts polling the file's mtime/size every `intervalMs` and reloads on change. */
  watch(intervalMs = 2000): void {
    if (this._watching) return;
    this._watching = true;
    watchFile(this._opts.path, { interval: intervalMs, persistent: false }, (cur: Stats, prev: Stats) => {
      if (cur.mtimeMs !== prev.mtimeMs || cur.size !== prev.size || cur.ino !== prev.ino) this.reload();
    });
  }

  /** Stops watching. */
  close(): void {
    if (!this._watching) return;
    unwatchFile(this._opts.path);
    this._watching = false;
  }
}
