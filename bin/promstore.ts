#!/usr/bin/env node
/**
 * The one executable. Modes:
 * - all (default): storage in a worker thread + write and read APIs on one HTTP port;
 * - storage: the gRPC storage service only;
 * - ingest / query: HTTP services that reach storage at --storage.address.
 * Every option is a flag and an environment variable (common/config.ts OPTIONS; `--help`).
 */
import { randomUUID } from 'node:crypto';
import { setFlagsFromString } from 'node:v8';
import { MessageChannel, Worker } from 'node:worker_threads';
import { LogController, type FastifyInstance } from 'fastify';
import type { Registry } from 'prom-client';
import { parseAuthConfig, type AuthConfig } from '../common/auth.js';
import { ConfigError, helpText, loadConfig, parseCommandLine, type Config } from '../common/config.js';
import { Overrides, parseRuntimeConfig } from '../common/limits.js';
import { fastifyLoggerOptions, jsonLogger } from '../common/log.js';
import { HttpMetrics, createRegistry } from '../common/metrics.js';
import { ReloadingFile } from '../common/reloading-file.js';
import type { Distributor } from '../ingest/distributor.js';
import { DecodePool } from '../ingest/decode-pool.js';
import { IngestMetrics, buildIngestServer, registerIngestRoutes } from '../ingest/server.js';
import { QueryMetrics } from '../query/api/metrics.js';
import { Engine } from '../query/promql/engine.js';
import { buildQueryServer } from '../query/server.js';
import { createGrpcStorageClient, registerStorageMetrics, type StorageClient } from '../storage/client/index.js';
import { PortTransport } from '../storage/port/port-transport.js';
import { startStorageProcess, type StorageProcessOptions } from './storage-process.js';
import type { StorageWorkerData } from './storage-worker.js';

/** A started service: how to stop it gracefully. */
interface Stoppable {
  stop(): Promise<void>;
}

const log = jsonLogger('main', 'info');

/** Per-tenant limits and auth, each reloadable (runtime config / auth file) or fixed. */
interface Tenancy {
  readonly overrides: () => Overrides;
  readonly auth: () => AuthConfig | null;
  /** Re-reads both files (SIGHUP). */
  reload(): void;
  close(): void;
}

/** Loads the runtime config and auth files (failing fast on a broken one) and watches them. */
function loadTenancy(config: Config): Tenancy {
  const reloadLog = jsonLogger('config', config.logLevel);
  let runtime: ReloadingFile<Overrides> | null = null;
  let auth: ReloadingFile<AuthConfig> | null = null;
  const fixed = new Overrides(config.limits);
  if (config.runtimeConfigFile !== '') {
    runtime = new ReloadingFile({ path: config.runtimeConfigFile, what: 'runtime config', log: reloadLog, parse: (text) => parseRuntimeConfig(text, config.limits) });
    runtime.watch(config.runtimeConfigReloadMs);
    log('info', 'runtime config loaded', { path: config.runtimeConfigFile, tenants: runtime.current.tenants() });
  }
  if (config.authFile !== '') {
    auth = new ReloadingFile({ path: config.authFile, what: 'auth', log: reloadLog, parse: parseAuthConfig });
    auth.watch(config.runtimeConfigReloadMs);
    log('info', 'authentication on', { path: config.authFile, tokens: auth.current.tokens.length, users: auth.current.users.size });
  }
  return {
    overrides: runtime === null ? () => fixed : () => (runtime as ReloadingFile<Overrides>).current,
    auth: auth === null ? () => null : () => (auth as ReloadingFile<AuthConfig>).current,
    reload() {
      runtime?.reload();
      auth?.reload();
    },
    close() {
      runtime?.close();
      auth?.close();
    },
  };
}

/** How often the distributor forgets idle series, targets and token buckets, ms. */
const SWEEP_INTERVAL_MS = 60_000;

/** Adds GET /metrics and the per-route latency histogram to a server. */
function instrument(app: FastifyInstance, registry: Registry, component: string): void {
  const http = new HttpMetrics(registry);
  app.addHook('onResponse', (request, reply, done) => {
    http.observe(component, request.routeOptions.url ?? '', request.method, reply.statusCode, reply.elapsedTime / 1000);
    done();
  });
  app.get('/metrics', async (_request, reply) => reply.type(registry.contentType).send(await registry.metrics()));
}

function storageOptions(config: Config): StorageProcessOptions {
  return {
    dataDir: config.storage.dataDir,
    host: config.grpcHost,
    port: config.grpcPort,
    maxMessageBytes: config.storage.maxMessageBytes,
    retentionMs: config.storage.retentionMs,
    checkpointIntervalMs: config.storage.checkpointIntervalMs,
  };
}

/**
 * Runs the storage service in a worker thread; resolves once it serves, with its gRPC port and
 * the in-process transport to it (storage/port).
 */
async function startStorageWorker(opts: StorageProcessOptions): Promise<{ port: number; transport: PortTransport; stop(): Promise<void> }> {
  const { port1, port2 } = new MessageChannel();
  const transport = new PortTransport(port1);
  const workerData: StorageWorkerData = { ...opts, callPort: port2 };
  // A young generation of 12 MiB instead of V8's up to 48: the storage thread's garbage is short-lived
  // (request buffers), and the larger one only raised peak RSS (100k series: 451 → ~420 MiB).
  const worker = new Worker(new URL('./storage-worker.js', import.meta.url), { workerData, transferList: [port2], resourceLimits: { maxYoungGenerationSizeMb: 12 } });
  const port = await new Promise<number>((resolve, reject) => {
    worker.once('error', reject);
    worker.once('exit', (code) => reject(new Error(`storage worker exited with code ${code}`)));
    worker.once('message', (msg: { type: string; port?: number; message?: string }) => {
      if (msg.type === 'listening' && msg.port !== undefined) resolve(msg.port);
      else reject(new Error(`storage failed to start: ${msg.message ?? msg.type}`));
    });
  });
  worker.removeAllListeners('exit');
  worker.on('exit', (code) => {
    log('error', 'storage worker exited', { code });
    transport.fail(`storage worker exited with code ${code}`);
    process.exitCode = 1;
  });
  return {
    port,
    transport,
    async stop() {
      worker.removeAllListeners('exit');
      // The worker flushes queued writes and checkpoints every tenant before answering 'closed';
      // a failed flush answers 'error' and makes the process exit non-zero.
      const closed = new Promise<void>((resolve, reject) => {
        worker.on('message', (msg: { type: string; message?: string }) => {
          if (msg.type === 'closed') resolve();
          else if (msg.type === 'error') reject(new Error(`storage close failed: ${msg.message ?? ''}`));
        });
        worker.once('exit', (code) => (code === 0 ? resolve() : reject(new Error(`storage worker exited with code ${code} while closing`))));
      });
      worker.postMessage({ type: 'close' });
      try {
        await closed;
      } finally {
        await worker.terminate();
      }
    },
  };
}

function storageClient(config: Config, address: string, transport?: PortTransport): StorageClient {
  return createGrpcStorageClient({
    address,
    timeoutMs: config.storage.rpcTimeoutMs,
    maxMessageBytes: config.storage.maxMessageBytes,
    ...(transport === undefined ? {} : { transport }),
  });
}

async function startHttp(config: Config, storage: StorageClient, tenancy: Tenancy, withIngest: boolean, withQuery: boolean): Promise<{ app: FastifyInstance; stop(): void }> {
  // One log line per request would be noise at remote-write rates; errors are still logged.
  const component = withIngest && withQuery ? 'all' : withQuery ? 'query' : 'ingest';
  const fastifyOptions = {
    logger: fastifyLoggerOptions(component, config.logLevel),
    logController: new LogController({ disableRequestLogging: true }),
    // A caller's request id (e.g. from a proxy) is kept so log lines can be joined across services.
    requestIdHeader: 'x-request-id',
    genReqId: () => randomUUID(),
  };
  const registry = createRegistry();
  let distributor: Distributor | undefined;
  const decodePool =
    withIngest && config.ingest.decodeThreads > 0 ? new DecodePool({ threads: config.ingest.decodeThreads, maxDecompressedBytes: config.ingest.maxDecompressedBytes }) : undefined;
  const ingestDeps = {
    storage,
    ...(decodePool === undefined ? {} : { decodePool }),
    config: config.ingest,
    overrides: tenancy.overrides,
    auth: tenancy.auth,
    metrics: new IngestMetrics(registry),
    onDistributor: (d: Distributor) => (distributor = d),
  };
  let app: FastifyInstance;
  if (withQuery) {
    const engine = new Engine({
      lookbackDeltaMs: config.query.lookbackDeltaMs,
      maxSamples: config.query.maxSamples,
      timeoutMs: config.query.timeoutMs,
      defaultEvalIntervalMs: config.query.defaultEvalIntervalMs,
    });
    // The query server owns /-/ready and /-/healthy; in all mode the write routes join it.
    app = buildQueryServer({
      storage,
      engine,
      config: config.query,
      fastifyOptions,
      overrides: tenancy.overrides,
      auth: tenancy.auth,
      metrics: new QueryMetrics(registry),
    });
    instrument(app, registry, component);
    registerStorageMetrics(registry, storage);
    if (withIngest) registerIngestRoutes(app, ingestDeps);
  } else {
    app = buildIngestServer({ ...ingestDeps, fastifyOptions });
    instrument(app, registry, component);
    app.get('/-/healthy', async () => 'healthy');
    app.get('/-/ready', async (_req, reply) => ((await storage.ready()) ? 'ready' : reply.code(503).send('not ready')));
  }
  // Fastify runs onClose after in-flight requests completed: none still needs a decode thread.
  if (decodePool !== undefined) app.addHook('onClose', async () => decodePool.close());
  await app.listen({ host: config.host, port: config.port });
  const sweep = setInterval(() => distributor?.sweep(), SWEEP_INTERVAL_MS);
  sweep.unref();
  return { app, stop: () => clearInterval(sweep) };
}

async function start(config: Config, tenancy: Tenancy): Promise<Stoppable> {
  switch (config.mode) {
    case 'storage': {
      const running = await startStorageProcess(storageOptions(config));
      log('info', 'storage listening', { grpcPort: running.port, dataDir: config.storage.dataDir });
      return { stop: () => running.close() };
    }
    case 'ingest':
    case 'query': {
      const storage = storageClient(config, config.storageAddress);
      const http = await startHttp(config, storage, tenancy, config.mode === 'ingest', config.mode === 'query');
      log('info', `${config.mode} listening`, { port: config.port, storage: config.storageAddress });
      return {
        async stop() {
          http.stop();
          await http.app.close();
          storage.close();
        },
      };
    }
    case 'all': {
      const worker = await startStorageWorker(storageOptions(config));
      const storage = storageClient(config, `127.0.0.1:${worker.port}`, worker.transport);
      const http = await startHttp(config, storage, tenancy, true, true);
      log('info', 'listening', { port: config.port, grpcPort: worker.port, dataDir: config.storage.dataDir });
      return {
        async stop() {
          // Stop accepting HTTP first so in-flight writes finish before storage flushes and closes.
          http.stop();
          await http.app.close();
          storage.close();
          await worker.stop();
        },
      };
    }
  }
}

async function main(): Promise<void> {
  let config: Config;
  try {
    const cmd = parseCommandLine(process.argv.slice(2));
    if (cmd.help) {
      process.stdout.write(`${helpText()}\n`);
      return;
    }
    config = loadConfig(cmd);
  } catch (err) {
    if (err instanceof ConfigError) {
      process.stderr.write(`${err.message}\n\n${helpText()}\n`);
      process.exit(2);
    }
    throw err;
  }
  let tenancy: Tenancy;
  try {
    tenancy = loadTenancy(config);
  } catch (err) {
    // A broken file at startup is fatal (fail fast); later broken reloads keep the last good one.
    process.stderr.write(`${err instanceof Error ? err.message : String(err)}\n`);
    process.exit(2);
  }
  log('info', 'effective config', { config: { ...config, limits: config.limits } });
  // Before any worker starts: V8 flags are per process, read by every isolate's heap.
  if (config.heapGrowthPercent > 0) setFlagsFromString(`--heap-growing-percent=${config.heapGrowthPercent}`);
  const service = await start(config, tenancy);
  process.on('SIGHUP', () => {
    log('info', 'SIGHUP: reloading runtime config and auth');
    tenancy.reload();
  });
  let stopping = false;
  const shutdown = (signal: string): void => {
    if (stopping) return;
    stopping = true;
    log('info', 'shutting down', { signal });
    tenancy.close();
    service.stop().then(
      () => process.exit(0),
      (err: unknown) => {
        log('error', 'shutdown failed', { err: String(err) });
        process.exit(1);
      },
    );
  };
  process.on('SIGTERM', () => shutdown('SIGTERM'));
  process.on('SIGINT', () => shutdown('SIGINT'));
}

main().catch((err: unknown) => {
  log('error', 'failed to start', { err: err instanceof Error ? err.stack ?? err.message : String(err) });
  process.exit(1);
});
