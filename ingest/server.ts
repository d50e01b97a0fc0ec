/**
 * The ingest service's HTTP server: a Fastify instance with the remote-write routes registered,
 * not listening (bin/ listens; tests use inject()).
 */
import Fastify, { type FastifyInstance, type FastifyServerOptions } from 'fastify';
import { registerIngestRoutes, type IngestRoutesDeps } from './routes/remote-write.js';

export { registerIngestRoutes, REMOTE_WRITE_PATHS, type IngestRoutesDeps } from './routes/remote-write.js';
export { IngestMetrics } from './metrics.js';

/** Dependencies of buildIngestServer: those of the routes plus Fastify's own options (logger etc.). */
export interface IngestServerDeps extends IngestRoutesDeps {
  readonly fastifyOptions?: FastifyServerOptions;
}

/**
 * Builds the ingest HTTP server (POST /api/v1/push and /api/v1/write). The caller owns the storage
 * client and closes it; closing the server does not.
 */
export function buildIngestServer(deps: IngestServerDeps): FastifyInstance {
  const app = Fastify({ logger: false, ...deps.fastifyOptions });
  registerIngestRoutes(app, deps);
  return app;
}
