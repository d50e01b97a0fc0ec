import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { dashboardQueries } from '../bench/queries.js';

// The k6 scripts cannot run here (no k6 binary), so they are type-checked against @types/k6 (a
// devDependency) with load/k6/tsconfig.json, and their query list is pinned to the benchmark's.
const ROOT = resolve(import.meta.dirname, '..', '..');
const TYPES = join(ROOT, 'node_modules', '@types', 'k6');
const hasTypes = existsSync(join(TYPES, 'index.d.ts'));
const inCi = process.env['CI'] === 'true';

describe('k6 scripts', () => {
  it('have @types/k6 installed (required in CI; skipped locally when absent)', () => {
    if (!hasTypes) {
      const message = `@types/k6 is not installed (${TYPES}): the k6 type check is skipped; add it as a devDependency`;
      if (inCi) throw new Error(message);
      console.warn(message);
    }
  });

  it.skipIf(!hasTypes)('type-check against @types/k6', () => {
    const tsc = join(ROOT, 'node_modules', 'typescript', 'bin', 'tsc');
    const r = spawnSync(process.execPath, [tsc, '-p', join(ROOT, 'load', 'k6', 'tsconfig.json'), '--noEmit'], { encoding: 'utf8', timeout: 60_000 });
    expect(`${r.stdout}${r.stderr}`.trim()).toBe('');
    expect(r.status).toBe(0);
  });

  it('run the same dashboard queries as the Node benchmark', () => {
    const json = JSON.parse(readFileSync(join(ROOT, 'load', 'k6', 'dashboard-queries.json'), 'utf8')) as unknown;
    expect(json).toEqual(dashboardQueries('{{prefix}}'));
  });
});
