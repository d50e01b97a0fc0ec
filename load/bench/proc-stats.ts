/**
 * Linux /proc readings for the benchmark: CPU time and memory of a server's process tree, and the
 * bytes a data directory holds. Linux only (the benchmark's machine); every reader returns 0 or an
 * empty result for a process that is gone instead of throwing, because servers exit during a run.
 */
import { readdirSync, readFileSync, lstatSync } from 'node:fs';
import { join } from 'node:path';

/** Clock ticks per second of /proc/<pid>/stat times (USER_HZ, 100 on every mainstream Linux). */
export const CLOCK_TICKS_PER_SEC = 100;

/** Fields of /proc/<pid>/stat the benchmark needs. */
export interface ProcStat {
  readonly pid: number;
  readonly ppid: number;
  /** User plus system CPU time of every thread of the process, seconds. */
  readonly cpuSec: number;
}

/**
 * Parses the text of /proc/<pid>/stat. The command name (field 2) is in parentheses and may
 * contain spaces or parentheses, so fields are counted from the last ')'. Returns null for text
 * that does not look like a stat line.
 */
export function parseProcStat(text: string): ProcStat | null {
  const close = text.lastIndexOf(')');
  if (close < 0) return null;
  const pid = Number.parseInt(text, 10);
  // After ") " come field 3 (state), 4 (ppid), …, 14 (utime), 15 (stime).
  const rest = text.slice(close + 2).trim().split(/\s+/);
  const ppid = Number(rest[1]);
  const utime = Number(rest[11]);
  const stime = Number(rest[12]);
  if (!Number.isFinite(pid) || !Number.isFinite(ppid) || !Number.isFinite(utime) || !Number.isFinite(stime)) return null;
  return { pid, ppid, cpuSec: (utime + stime) / CLOCK_TICKS_PER_SEC };
}

function readStat(pid: number): ProcStat | null {
  try {
    return parseProcStat(readFileSync(`/proc/${pid}/stat`, 'utf8'));
  } catch {
    return null;
  }
}

/** `pid` and all its live descendants (by walking every /proc/<n>/stat once). */
export function processTree(pid: number): number[] {
  const children = new Map<number, number[]>();
  let entries: string[] = [];
  try {
    entries = readdirSync('/proc');
  } catch {
    return [pid];
  }
  for (const name of entries) {
    if (!/^\d+$/.test(name)) continue;
    const st = readStat(Number(name));
    if (st === null) continue;
    const list = children.get(st.ppid) ?? [];
    list.push(st.pid);
    children.set(st.ppid, list);
  }
  const out: number[] = [];
  const pending = [pid];
  while (pending.length > 0) {
    const p = pending.pop() as number;
    out.push(p);
    for (const c of children.get(p) ?? []) pending.push(c);
  }
  return out;
}

/**
 * CPU seconds (user + system, all threads: our storage worker thread is in the same pid) used so
 * far by `pid` and its live descendants.
 */
export function treeCpuSec(pid: number): number {
  let sum = 0;
  for (const p of processTree(pid)) sum += readStat(p)?.cpuSec ?? 0;
  return sum;
}

/** Parses a `Name:   123 kB` line of /proc/<pid>/status to bytes; 0 when absent. */
export function statusFieldBytes(status: string, field: string): number {
  const m = new RegExp(`^${field}:\\s+(\\d+)\\s*kB`, 'm').exec(status);
  return m === null ? 0 : Number(m[1]) * 1024;
}

/** Resident memory now and its high-water mark, bytes, summed over the process tree. */
export function treeMemory(pid: number): { rssBytes: number; hwmBytes: number } {
  let rssBytes = 0;
  let hwmBytes = 0;
  for (const p of processTree(pid)) {
    try {
      const s = readFileSync(`/proc/${p}/status`, 'utf8');
      rssBytes += statusFieldBytes(s, 'VmRSS');
      hwmBytes += statusFieldBytes(s, 'VmHWM');
    } catch {
      // Gone between the listing and the read.
    }
  }
  return { rssBytes, hwmBytes };
}

/**
 * Polls the tree's RSS every `intervalMs` and keeps the maximum, next to the kernel's own
 * high-water mark (VmHWM, exact for one process). `stop()` returns the larger of both, bytes.
 */
export function startPeakRss(pid: number, intervalMs = 200): { stop(): number } {
  let peak = 0;
  const poll = (): void => {
    const m = treeMemory(pid);
    peak = Math.max(peak, m.rssBytes, m.hwmBytes);
  };
  poll();
  const timer = setInterval(poll, intervalMs);
  timer.unref();
  return {
    stop() {
      clearInterval(timer);
      poll();
      return peak;
    },
  };
}

/** Bytes of all regular files under `dir` (recursively, symlinks not followed); 0 if missing. */
export function dirBytes(dir: string): number {
  let total = 0;
  let names: string[];
  try {
    names = readdirSync(dir);
  } catch {
    return 0;
  }
  for (const name of names) {
    const p = join(dir, name);
    let st;
    try {
      st = lstatSync(p);
    } catch {
      continue;
    }
    if (st.isDirectory()) total += dirBytes(p);
    else if (st.isFile()) total += st.size;
  }
  return total;
}
