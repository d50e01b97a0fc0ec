import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { availableParallelism } from 'node:os';
import { ConfigError, OPTIONS, defaultDecodeThreads, helpText, loadConfig, parseCommandLine } from './config.js';

function configFile(yaml: string): string {
  const path = join(mkdtempSync(join(tmpdir(), 'promstore-config-')), 'config.yml');
  writeFileSync(path, yaml);
  return path;
}

describe('loadConfig', () => {
  it('uses the defaults', () => {
    const c = loadConfig(parseCommandLine([]), {});
    expect([c.mode, c.port, c.grpcPort, c.storage.dataDir, c.query.lookbackDeltaMs]).toEqual(['all', 9009, 9095, './data', 300_000]);
  });

  it('gives decode threads the cores the HTTP thread (and in all mode the storage thread) leave, unless set', () => {
    expect([1, 2, 3, 4, 8, 64].map((cores) => defaultDecodeThreads('all', cores))).toEqual([0, 0, 1, 2, 4, 4]);
    expect([1, 2, 3, 8].map((cores) => defaultDecodeThreads('ingest', cores))).toEqual([0, 1, 2, 4]);
    expect(loadConfig(parseCommandLine(['ingest']), {}).ingest.decodeThreads).toBe(defaultDecodeThreads('ingest', availableParallelism()));
    expect(loadConfig(parseCommandLine(['all']), {}).ingest.decodeThreads).toBe(defaultDecodeThreads('all', availableParallelism()));
    expect(loadConfig(parseCommandLine(['all']), { INGEST_DECODE_THREADS: '3' }).ingest.decodeThreads).toBe(3);
  });

  it('takes flag over environment over file over default', () => {
    const file = configFile('port: 7000\ngrpc_port: 7001\nstorage:\n  data_dir: /from/file\nquery:\n  lookback_delta: 2m\n  timeout: 30\n');
    const c = loadConfig(parseCommandLine(['query', `--config=${file}`, '--port', '8000']), { PORT: '7500', GRPC_PORT: '7502' });
    expect(c.mode).toBe('query');
    expect(c.port).toBe(8000);
    expect(c.grpcPort).toBe(7502);
    expect(c.storage.dataDir).toBe('/from/file');
    // Durations in YAML are Prometheus durations, or numbers of seconds.
    expect(c.query.lookbackDeltaMs).toBe(120_000);
    expect(c.query.timeoutMs).toBe(30_000);
  });

  it('lists every problem at once', () => {
    try {
      loadConfig(parseCommandLine(['--port=x', '--query.timeout=soon', '--storage.address=nohost']), {});
      expect.unreachable();
    } catch (err) {
      expect(err).toBeInstanceOf(ConfigError);
      expect((err as ConfigError).problems).toHaveLength(3);
    }
  });

  it('rejects unknown flags and modes', () => {
    expect(() => parseCommandLine(['--nope=1'])).toThrow(/unknown flag --nope/);
    expect(() => parseCommandLine(['everything'])).toThrow(/unknown argument/);
  });

  it('prints durations as durations in --help', () => {
    expect(helpText()).toContain('--query.lookback-delta / QUERY_LOOKBACK_DELTA');
    expect(helpText()).toMatch(/lookback for instant-vector selection \(default 5m\)/);
  });
});

describe('README', () => {
  it('documents every option with its flag and its environment variable', () => {
    const readme = readFileSync(new URL('../README.md', import.meta.url), 'utf8');
    const missing = OPTIONS.filter((o) => !readme.includes(`\`--${o.flag}\``) || !readme.includes(`\`${o.env}\``)).map((o) => o.flag);
    expect(missing).toEqual([]);
  });
});
