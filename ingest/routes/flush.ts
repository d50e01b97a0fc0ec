/**
 * GET|POST /ingester/flush (Mimir's name): asks storage to persist everything written so far in its
 * long-term form (SQLite: every tenant checkpointed) and answers 204 once that is done. Acknowledged
 * writes are durable either way; this moves background work forward, e.g. before a backup or a
 * benchmark's disk measurement. It spans every tenant, so with authentication on only a principal
 * granted every tenant ("*") may call it.
 */
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { authenticate, type AuthConfig } from '../../common/auth.js';
import { AppError, ErrorKind, toAppError, toHttpStatus } from '../../common/errors.js';
import type { StorageClient } from '../../storage/client/index.js';

/** The path of the flush endpoint. */
export const FLUSH_PATH = '/ingester/flush';

/** Dependencies of the flush route. */
export interface FlushRouteDeps {
  readonly storage: StorageClient;
  /** The current auth file, or null when authentication is off. */
  readonly auth?: () => AuthConfig | null;
}

/** Registers GET and POST FLUSH_PATH on `app`. */
export function registerFlushRoute(app: FastifyInstance, deps: FlushRouteDeps): void {
  const handler = async (req: FastifyRequest, reply: FastifyReply): Promise<FastifyReply> => {
    try {
      const auth = deps.auth?.() ?? null;
      if (auth !== null) {
        const header = req.headers.authorization;
        const principal = authenticate(auth, Array.isArray(header) ? header.join(',') : header);
        if (principal.tenants !== null) {
          throw new AppError(ErrorKind.Forbidden, 'flush-forbidden', 'flush spans every tenant: it needs a principal granted "*" [err-flush-forbidden]');
        }
      }
      // Stop waiting (and let storage know) when the caller goes away.
      const abort = new AbortController();
      reply.raw.once('close', () => {
        if (!reply.raw.writableEnded) abort.abort();
      });
      await deps.storage.flush(abort.signal);
      return reply.code(204).send();
    } catch (e) {
      const err = toAppError(e);
      if (toHttpStatus(err) >= 500) req.log.error({ err, code: err.code }, 'flush failed');
      return reply.code(toHttpStatus(err)).type('text/plain; charset=utf-8').send(`${err.message}\n`);
    }
  };
  app.get(FLUSH_PATH, handler);
  app.post(FLUSH_PATH, handler);
}
