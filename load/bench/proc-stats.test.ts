import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { dirBytes, parseProcStat, processTree, statusFieldBytes, treeCpuSec, treeMemory } from './proc-stats.js';

describe('parseProcStat', () => {
  it.each([
    { name: 'plain', text: '123 (node) S 45 123 123 0 -1 4194560 100 0 0 0 250 50 0 0 20 0 11 0 1000 0 0', want: { pid: 123, ppid: 45, cpuSec: 3 } },
    { name: 'name with spaces and parens', text: '7 (a (b) c) R 1 7 7 0 -1 0 0 0 0 0 1 2 0 0 20 0 1 0 1 0 0', want: { pid: 7, ppid: 1, cpuSec: 0.03 } },
  ])('reads pid, ppid and utime+stime: $name', ({ text, want }) => {
    expect(parseProcStat(text)).toEqual(want);
  });

  it('returns null for garbage', () => {
    expect(parseProcStat('nonsense')).toBeNull();
  });
});

describe('statusFieldBytes', () => {
  it.each([
    { field: 'VmRSS', want: 2048 * 1024 },
    { field: 'VmHWM', want: 4096 * 1024 },
    { field: 'VmSwap', want: 0 },
  ])('reads $field', ({ field, want }) => {
    expect(statusFieldBytes('Name:\tnode\nVmHWM:\t    4096 kB\nVmRSS:\t    2048 kB\n', field)).toBe(want);
  });
});

describe('live /proc of this process', () => {
  it('finds itself in its tree with positive CPU time and memory', () => {
    expect(processTree(process.pid)).toContain(process.pid);
    expect(treeCpuSec(process.pid)).toBeGreaterThan(0);
    const m = treeMemory(process.pid);
    expect(m.rssBytes).toBeGreaterThan(1024 * 1024);
    expect(m.hwmBytes).toBeGreaterThanOrEqual(m.rssBytes);
  });
});

describe('dirBytes', () => {
  it('sums regular files recursively and is 0 for a missing directory', () => {
    const dir = mkdtempSync(join(tmpdir(), 'bench-dir-'));
    try {
      writeFileSync(join(dir, 'a'), Buffer.alloc(100));
      mkdirSync(join(dir, 'sub'));
      writeFileSync(join(dir, 'sub', 'b'), Buffer.alloc(23));
      expect(dirBytes(dir)).toBe(123);
      expect(dirBytes(join(dir, 'missing'))).toBe(0);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
