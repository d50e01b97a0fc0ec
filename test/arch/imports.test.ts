import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';

// Enforces the dependency rules of STYLE.md 2.3 on production files by scanning import specifiers.
const ROOT = resolve(import.meta.dirname, '..', '..');

function sourceFiles(dir: string): string[] {
  const out: string[] = [];
  for (const name of readdirSync(dir)) {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) out.push(...sourceFiles(path));
    else if (name.endsWith('.ts') && !name.endsWith('.test.ts') && !name.endsWith('.bench.ts') && !name.endsWith('.d.ts')) out.push(path);
  }
  return out;
}

function importsOf(file: string): string[] {
  const text = readFileSync(file, 'utf8');
  const specs: string[] = [];
  for (const m of text.matchAll(/(?:import|export)\s[^'"]*?from\s+['"]([^'"]+)['"]|import\(\s*['"]([^'"]+)['"]\s*\)/g)) {
    specs.push((m[1] ?? m[2]) as string);
  }
  return specs;
}

/** Repo-relative target of a relative import, or the package name of a bare one. */
function target(file: string, spec: string): string {
  if (spec.startsWith('.')) return relative(ROOT, resolve(join(file, '..'), spec));
  return spec.startsWith('@') ? spec.split('/').slice(0, 2).join('/') : (spec.split('/')[0] as string);
}

interface Rule {
  readonly from: RegExp;
  readonly forbidden: RegExp;
  readonly why: string;
}

const RULES: Rule[] = [
  { from: /^(proto|common)\//, forbidden: /^(storage|ingest|query|bin|load)\//, why: 'proto/ and common/ import nothing else from the repo' },
  { from: /^ingest\//, forbidden: /^query\//, why: 'ingest and query never import each other' },
  { from: /^query\//, forbidden: /^ingest\//, why: 'ingest and query never import each other' },
  { from: /^(ingest|query)\//, forbidden: /^storage\/(?!client\/index)/, why: 'ingest and query reach storage only via storage/client/index.ts' },
  { from: /^query\/promql\//, forbidden: /^(fastify|@grpc\/grpc-js|storage\/)/, why: 'the PromQL engine is pure' },
  { from: /^storage\/(backend|chunk)\//, forbidden: /^(@grpc\/grpc-js|storage\/(server|client|rpc))/, why: 'backends and chunks know nothing of gRPC' },
  { from: /^(?!proto\/)/, forbidden: /^protobufjs$/, why: 'protobufjs is owned by proto/' },
  { from: /^(?!storage\/(rpc|server\/|client\/|port\/))/, forbidden: /^@grpc\/grpc-js$/, why: 'grpc-js is owned by storage/rpc, server, client and port (the in-process transport)' },
  { from: /^(?!storage\/backend\/sqlite\/)/, forbidden: /^better-sqlite3$/, why: 'better-sqlite3 is owned by the SQLite backend' },
  { from: /^(?!(load\/|test\/helpers\/))/, forbidden: /^snappyjs$/, why: 'snappyjs compresses for load/ and test helpers; ingest decompresses with ingest/snappy.ts' },
  { from: /^(?!(bin\/|ingest\/(server|routes\/)|query\/(server|api\/)))/, forbidden: /^fastify$/, why: 'fastify is owned by the servers and routes' },
];

describe('dependency direction (STYLE.md 2.3)', () => {
  const files = ['bin', 'common', 'proto', 'storage', 'ingest', 'query', 'load'].flatMap((d) => sourceFiles(join(ROOT, d)));

  it('finds the production files', () => {
    expect(files.length).toBeGreaterThan(10);
  });

  it('has no forbidden imports', () => {
    const violations: string[] = [];
    for (const file of files) {
      const from = relative(ROOT, file);
      for (const spec of importsOf(file)) {
        const to = target(file, spec);
        for (const rule of RULES) {
          if (rule.from.test(from) && rule.forbidden.test(to)) violations.push(`${from} imports ${spec}: ${rule.why}`);
        }
      }
    }
    expect(violations).toEqual([]);
  });
});
