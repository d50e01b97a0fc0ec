#!/usr/bin/env node
/**
 * The one executable. Modes:
 * - all (default): storage in a worker thread + write and read APIs on one HTTP port;
 * - storage: the gRPC storage service only;
 * - ingest / query: HTTP services that reach storage at --storage.address.
 * Every option is a flag and an environment variable (common/config.ts OPTIONS; `--help`).
 */
import { Worker } from 'node:worker_threads';
import { LogController, type FastifyInstance } from 'fastify';
import { ConfigError, helpText, loadConfig, parseCommandLine, type Config } from '../common/config.js';
import { buildIngestServer, registerIngestRoutes } from '../ingest/server.js';
import { Engine } from '../query/promql/engine.js';
import { buildQueryServer } from '../query/server.js';
import { createGrpcStorageClient, type StorageClient } from '../storage/client/index.js';
import { startStorageProcess, type StorageProcessOptions } from './storage-process.js';

/** A started service: how to stop it gracefully. */
interface Stoppable {
  stop(): Promise<void>;
}

function log(level: string, msg: string, fields: Record<string, unknown> = {}): void {
  process.stderr.write(`${JSON.stringify({ ts: new Date().toISOString(), level, component: 'main', msg, ...fields })}\n`);
}

function storageOptions(config: Config): StorageProcessOptions {
  return {
    dataDir: config.storage.dataDir,
    host: config.grpcHost,
    port: config.grpcPort,
    maxMessageBytes: config.storage.maxMessageBytes,
  };
}

/** Runs the storage service in a worker thread; resolves with its gRPC port once it serves. */
async function startStorageWorker(opts: StorageProcessOptions): Promise<{ port: number; stop(): Promise<void> }> {
  const worker = new Worker(new URL('./storage-worker.js', import.meta.url), { workerData: opts });
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
    process.exitCode = 1;
  });
  return {
    port,
    async stop() {
      worker.removeAllListeners('exit');
      const closed = new Promise<void>((resolve) => {
        worker.on('message', (msg: { type: string }) => {
          if (msg.type === 'closed' || msg.type === 'error') resolve();
        });
        worker.once('exit', () => resolve());
      });
      worker.postMessage({ type: 'close' });
      await closed;
      await worker.terminate();
    },
  };
}

function storageClient(config: Config, address: string): StorageClient {
  return createGrpcStorageClient({
    address,
    timeoutMs: config.storage.rpcTimeoutMs,
    maxMessageBytes: config.storage.maxMessageBytes,
  });
}

async function startHttp(config: Config, storage: StorageClient, withIngest: boolean, withQuery: boolean): Promise<FastifyInstance> {
  // One log line per request would be noise at remote-write rates; errors are still logged.
  const fastifyOptions = { logger: { level: config.logLevel }, logController: new LogController({ disableRequestLogging: true }) };
  let app: FastifyInstance;
  if (withQuery) {
    const engine = new Engine({
      lookbackDeltaMs: config.query.lookbackDeltaMs,
      maxSamples: config.query.maxSamples,
      timeoutMs: config.query.timeoutMs,
      defaultEvalIntervalMs: config.query.defaultEvalIntervalMs,
    });
    // The query server owns /-/ready and /-/healthy; in all mode the write routes join it.
    app = buildQueryServer({ storage, engine, config: config.query, fastifyOptions });
    if (withIngest) registerIngestRoutes(app, { storage, config: config.ingest });
  } else {
    app = buildIngestServer({ storage, config: config.ingest, fastifyOptions });
    app.get('/-/healthy', async () => 'healthy');
    app.get('/-/ready', async (_req, reply) => ((await storage.ready()) ? 'ready' : reply.code(503).send('not ready')));
  }
  await app.listen({ host: config.host, port: config.port });
  return app;
}

async function start(config: Config): Promise<Stoppable> {
  switch (config.mode) {
    case 'storage': {
      const running = await startStorageProcess(storageOptions(config));
      log('info', 'storage listening', { grpcPort: running.port, dataDir: config.storage.dataDir });
      return { stop: () => running.close() };
    }
    case 'ingest':
    case 'query': {
      const storage = storageClient(config, config.storageAddress);
      const app = await startHttp(config, storage, config.mode === 'ingest', config.mode === 'query');
      log('info', `${config.mode} listening`, { port: config.port, storage: config.storageAddress });
      return {
        async stop() {
          await app.close();
          storage.close();
        },
      };
    }
    case 'all': {
      const worker = await startStorageWorker(storageOptions(config));
      const storage = storageClient(config, `127.0.0.1:${worker.port}`);
      const app = await startHttp(config, storage, true, true);
      log('info', 'listening', { port: config.port, grpcPort: worker.port, dataDir: config.storage.dataDir });
      return {
        async stop() {
          // Stop accepting HTTP first so in-flight writes finish before storage flushes and closes.
          await app.close();
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
  const service = await start(config);
  let stopping = false;
  const shutdown = (signal: string): void => {
    if (stopping) return;
    stopping = true;
    log('info', 'shutting down', { signal });
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
