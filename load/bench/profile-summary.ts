/**
 * Summarises V8 `.cpuprofile` files (from `node --cpu-prof`) as the functions with the most self
 * time, so the benchmark can say where our server spends its CPU. Also runnable on its own:
 * `node dist/load/bench/profile-summary.js FILE…`.
 */
import { readFileSync } from 'node:fs';
import { basename } from 'node:path';

/** The parts of the V8 CPU profile format used here. */
interface CpuProfile {
  nodes: Array<{ id: number; callFrame: { functionName: string; url: string; lineNumber: number }; hitCount?: number }>;
  samples?: number[];
  timeDeltas?: number[];
  startTime: number;
  endTime: number;
}

/** Self time per function (name + file:line), µs, from one profile. Sample time deltas weight each hit. */
export function selfTimes(profile: CpuProfile): Map<string, number> {
  const byId = new Map<number, string>();
  for (const n of profile.nodes) {
    const f = n.callFrame;
    const where = f.url === '' ? '' : ` ${basename(f.url)}:${f.lineNumber + 1}`;
    byId.set(n.id, `${f.functionName === '' ? '(anonymous)' : f.functionName}${where}`);
  }
  const out = new Map<string, number>();
  const samples = profile.samples ?? [];
  const deltas = profile.timeDeltas ?? [];
  for (let i = 0; i < samples.length; i++) {
    const key = byId.get(samples[i] as number) ?? '?';
    // timeDeltas[i] is the gap before sample i; attribute the next gap to this sample.
    const dt = (deltas[i + 1] ?? deltas[i] ?? 0) as number;
    out.set(key, (out.get(key) ?? 0) + Math.max(0, dt));
  }
  return out;
}

/** Markdown lines: per file, the `top` functions by self time with their share of the profile. */
export function summariseProfiles(files: readonly string[], top: number): string[] {
  const lines: string[] = [];
  if (files.length === 0) return ['(no profiles found)'];
  for (const file of files) {
    const profile = JSON.parse(readFileSync(file, 'utf8')) as CpuProfile;
    const times = selfTimes(profile);
    let total = 0;
    for (const v of times.values()) total += v;
    const idle = times.get('(idle)') ?? 0;
    lines.push(`### ${basename(file)}: ${(total / 1e6).toFixed(1)} s sampled, ${(((total - idle) / Math.max(total, 1)) * 100).toFixed(0)}% busy`, '');
    lines.push('| self ms | share of busy | function |', '|---:|---:|---|');
    const busy = Math.max(1, total - idle);
    const sorted = [...times.entries()].filter(([k]) => k !== '(idle)').sort((a, b) => b[1] - a[1]).slice(0, top);
    for (const [k, v] of sorted) lines.push(`| ${(v / 1000).toFixed(0)} | ${((v / busy) * 100).toFixed(1)}% | \`${k}\` |`);
    lines.push('');
  }
  return lines;
}

if (process.argv[1] !== undefined && import.meta.filename === process.argv[1]) {
  process.stdout.write(`${summariseProfiles(process.argv.slice(2), 30).join('\n')}\n`);
}
