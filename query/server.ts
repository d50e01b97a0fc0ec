/**
 * The query service's HTTP server: a Fastify instance with the Prometheus query API registered,
 * not listening (query/main.ts listens; tests use inject()).
 */
import Fastify, { type FastifyInstance, type FastifyServerOptions } from 'fastify';
import { fromFastifyError, sendError } from './api/respond.js';
import { registerQueryRoutes, type QueryRoutesDeps } from './api/routes.js';

/** Dependencies of buildQueryServer: those of the routes plus Fastify's own options (logger etc.). */
export interface QueryServerDeps extends QueryRoutesDeps {
  readonly fastifyOptions?: FastifyServerOptions;
}

/**
 * Builds the query HTTP server (Prometheus API under /api/v1, /-/ready, /-/healthy). The caller
 * owns the storage client and closes it; closing the server does not.
 */
export function buildQueryServer(deps: QueryServerDeps): FastifyInstance {
  const app = Fastify({
    logger: false,
    // Errors raised before routing (e.g. a malformed %-escape in the path) in the API envelope too.
    frameworkErrors: (err, request, reply) => sendError(reply, fromFastifyError(err), request.log),
    ...deps.fastifyOptions,
  });
  registerQueryRoutes(app, deps);
  return app;
}
