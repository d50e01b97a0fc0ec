/**
 * POST /api/v1/push (alias /api/v1/write): the Prometheus remote-write 1.0 receiver; also
 * registers /ingester/flush (flush.ts).
 * negotiate → decode → validate → storage.write → 204, or one 400 summarising partial rejects.
 * All statuses come from common/errors.ts; nothing is logged per series or sample.
 */
import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { AuthConfig } from '../../common/auth.js';
import type { Clock } from '../../common/clock.js';
import type { IngestConfig } from '../../common/config.js';
import { AppError, ErrorKind, clip, isRetryable, toAppError, toHttpStatus } from '../../common/errors.js';
import { Overrides } from '../../common/limits.js';
import { requestTenants } from '../../common/tenant.js';
import type { RejectedSamples, TenantId } from '../../common/types.js';
import type { StorageClient } from '../../storage/client/index.js';
import { decodeWriteRequest, resolveLabels, type DecodedWriteRequest } from '../../proto/write-request-decoder.js';
import { checkRemoteWriteBody, decodeRemoteWriteBody } from '../decode.js';
import type { DecodePool } from '../decode-pool.js';
import type { KnownSeries } from '../series-cache.js';
import { Distributor, type WriteOutcome } from '../distributor.js';
import { RequestRefusedError } from '../limits.js';
import { registerFlushRoute } from './flush.js';
import type { IngestMetrics, ReceivedCounts } from '../metrics.js';

/** Dependencies of the ingest routes. */
export interface IngestRoutesDeps {
  readonly storage: StorageClient;
  readonly config: IngestConfig;
  /** The current per-tenant limits (swapped on reload), read per request; absent = defaults for all. */
  readonly overrides?: () => Overrides;
  /** The current auth file, or null when authentication is off (the default). */
  readonly auth?: () => AuthConfig | null;
  /** Where to count requests, samples and discards; absent = not counted. */
  readonly metrics?: IngestMetrics;
  /** Time source of limits (default the system clock). */
  readonly clock?: Clock;
  /** Receives the distributor built for these routes (e.g. to run its periodic sweep). */
  readonly onDistributor?: (d: Distributor) => void;
  /** Decode threads for bodies; absent = decode on the request thread. */
  readonly decodePool?: DecodePool;
}

const DEFAULT_OVERRIDES = new Overrides();

/** Paths served by the receiver: Cortex/Mimir spelling first, Prometheus's second. */
export const REMOTE_WRITE_PATHS = ['/api/v1/push', '/api/v1/write'] as const;

/** Response headers of remote write 2.0 with the counts actually stored; set on every response. */
const HEADER_SAMPLES_WRITTEN = 'X-Prometheus-Remote-Write-Samples-Written';
const HEADER_HISTOGRAMS_WRITTEN = 'X-Prometheus-Remote-Write-Histograms-Written';
const HEADER_EXEMPLARS_WRITTEN = 'X-Prometheus-Remote-Write-Exemplars-Written';

/** Seconds suggested to retrying senders on 429/503; jittered so a fleet does not retry in lockstep. */
const RETRY_AFTER_MIN_S = 1;
const RETRY_AFTER_JITTER_S = 2;

/** Below this many compressed bytes, an empty decode is just an empty request (not a schema mismatch). */
const SUSPICIOUS_EMPTY_BODY_BYTES = 64;

const EMPTY_BODY = new Uint8Array(0);

function headerValue(v: string | string[] | undefined): string | undefined {
  // A repeated header is joined as HTTP prescribes; the validators then reject the comma.
  return Array.isArray(v) ? v.join(',') : v;
}

function setWrittenHeaders(reply: FastifyReply, samplesWritten: number, exemplarsWritten = 0): void {
  reply.header(HEADER_SAMPLES_WRITTEN, String(samplesWritten));
  reply.header(HEADER_HISTOGRAMS_WRITTEN, '0');
  reply.header(HEADER_EXEMPLARS_WRITTEN, String(exemplarsWritten));
}

/** Human-readable 400 body: tenant and totals, then one line per code with its count and one example. */
export function summarizeRejections(outcome: Pick<WriteOutcome, 'rejected' | 'samplesWritten'>, tenant?: TenantId): string {
  let rejected = 0;
  for (const r of outcome.rejected) rejected += r.count;
  const who = tenant === undefined ? '' : ` for tenant ${JSON.stringify(clip(tenant))}`;
  const lines = [`remote write${who}: ${rejected} samples rejected, ${outcome.samplesWritten} written`];
  for (const r of outcome.rejected) lines.push(`${r.code}: ${r.count} rejected, e.g. ${clip(r.example, 1000)}`);
  return `${lines.join('\n')}\n`;
}

/** Maps Fastify's own request errors (body limit, bad content-length, …) onto AppErrors. */
function fromFastifyError(err: FastifyError, maxBodyBytes: number): AppError {
  if (err.code === 'FST_ERR_CTP_BODY_TOO_LARGE') {
    return new AppError(ErrorKind.TooLarge, 'body-too-large', `request body exceeds ${maxBodyBytes} bytes (ingest.maxBodyBytes) [err-body-too-large]`);
  }
  if (typeof err.statusCode === 'number' && err.statusCode >= 400 && err.statusCode < 500) {
    return new AppError(ErrorKind.BadData, 'bad-request', `${clip(err.message)} [err-bad-request]`);
  }
  return toAppError(err);
}

function sendError(req: FastifyRequest, reply: FastifyReply, err: AppError, tenant: TenantId | undefined): FastifyReply {
  const status = toHttpStatus(err);
  if (status >= 500) req.log.error({ err, tenant, code: err.code }, 'remote write failed');
  else req.log.info({ tenant, code: err.code, status }, 'remote write rejected');
  if (err instanceof RequestRefusedError && err.retryAfterSeconds > 0) {
    reply.header('Retry-After', String(err.retryAfterSeconds));
  } else if (isRetryable(err) && (status === 429 || status === 503)) {
    reply.header('Retry-After', String(RETRY_AFTER_MIN_S + Math.floor(Math.random() * (RETRY_AFTER_JITTER_S + 1))));
  }
  setWrittenHeaders(reply, 0);
  return reply.code(status).type('text/plain; charset=utf-8').send(`${err.message}\n`);
}

function countsByCode(rejected: readonly RejectedSamples[]): Record<string, number> {
  const out: Record<string, number> = {};
  for (const r of rejected) out[r.code] = r.count;
  return out;
}

/**
 * Registers the remote-write routes on `app` inside an encapsulated child context: its catch-all
 * raw-body parser (any Content-Type → Buffer, capped at `config.maxBodyBytes`) and its text/plain
 * error handler apply to these routes only, leaving other routes' parsers untouched.
 */
export function registerIngestRoutes(app: FastifyInstance, deps: IngestRoutesDeps): void {
  const { config, metrics } = deps;
  const overrides = deps.overrides ?? (() => DEFAULT_OVERRIDES);
  const distributor = new Distributor({
    storage: deps.storage,
    limits: (tenant) => overrides().forTenant(tenant),
    ...(deps.clock === undefined ? {} : { clock: deps.clock }),
  });
  metrics?.bindActiveSeries(distributor.activeSeries);
  deps.onDistributor?.(distributor);

  const handler = async (req: FastifyRequest, reply: FastifyReply): Promise<FastifyReply> => {
    const startedMs = performance.now();
    let tenant: TenantId | undefined;
    let received: ReceivedCounts | undefined;
    const body = Buffer.isBuffer(req.body) ? req.body : EMPTY_BODY;
    try {
      tenant = requestTenants(
        { orgId: headerValue(req.headers['x-scope-orgid']), authorization: headerValue(req.headers.authorization) },
        config,
        deps.auth?.() ?? null,
        false,
      )[0] as TenantId;
      const headers = { contentType: headerValue(req.headers['content-type']), contentEncoding: headerValue(req.headers['content-encoding']) };
      let decoded: DecodedWriteRequest<KnownSeries>;
      const pool = deps.decodePool;
      if (pool !== undefined && pool.size > 0) {
        checkRemoteWriteBody(body, headers, config);
        const { buf, cols } = await pool.decode(body);
        const lookup = distributor.seriesLookup(tenant);
        decoded = cols === null ? decodeWriteRequest(buf, lookup) : resolveLabels(buf, cols, lookup);
      } else {
        decoded = decodeRemoteWriteBody(body, headers, config, distributor.seriesLookup(tenant));
      }
      if (decoded.series.length === 0 && decoded.metadataCount === 0 && body.length > SUSPICIOUS_EMPTY_BODY_BYTES) {
        // A v2 body decoded as v1 yields an empty message (all fields unknown): worth one warning.
        req.log.warn({ tenant, bodyBytes: body.length }, 'remote write body decoded to no series and no metadata; wrong protobuf message?');
      }
      received = { series: decoded.series.length, samples: decoded.tsMs.length, exemplars: decoded.exemplarCount, metadata: decoded.metadataCount };
      const outcome = await distributor.push(tenant, {
        batch: decoded,
        histogramCount: decoded.histogramCount,
        exemplars: decoded.exemplars,
        metadata: decoded.metadata,
        ...(decoded.rawLabels === undefined || decoded.known === undefined ? {} : { rawLabels: decoded.rawLabels, known: decoded.known }),
      });
      metrics?.observeOutcome(tenant, received, outcome, body.length);
      setWrittenHeaders(reply, outcome.samplesWritten, outcome.exemplarsWritten);
      if (outcome.extrasRejected.length > 0) {
        req.log.info({ tenant, dropped: countsByCode(outcome.extrasRejected) }, 'remote write dropped exemplars or metadata');
      }
      if (outcome.rejected.length === 0) {
        reply.code(204).send();
      } else {
        const first = outcome.rejected[0] as RejectedSamples;
        const err = new AppError(ErrorKind.SampleRejected, first.code, summarizeRejections(outcome, tenant));
        req.log.info({ tenant, samplesWritten: outcome.samplesWritten, rejected: countsByCode(outcome.rejected) }, 'remote write partially rejected');
        reply.code(toHttpStatus(err)).type('text/plain; charset=utf-8').send(err.message);
      }
    } catch (e) {
      const err = toAppError(e);
      if (err instanceof RequestRefusedError && tenant !== undefined && received !== undefined) metrics?.observeRefused(tenant, err.code, received);
      metrics?.observeError(tenant, toHttpStatus(err), body.length);
      sendError(req, reply, err, tenant);
    }
    metrics?.observeDuration(req.routeOptions.url ?? '', reply.statusCode, (performance.now() - startedMs) / 1000);
    return reply;
  };

  app.register(async (child) => {
    // Our parser must see every body as raw bytes, whatever Content-Type claims (415 is ours to give).
    child.removeAllContentTypeParsers();
    child.addContentTypeParser('*', { parseAs: 'buffer', bodyLimit: config.maxBodyBytes }, (_req, body, done) => {
      done(null, body);
    });
    child.setErrorHandler((err: FastifyError, req, reply) => {
      const appErr = err instanceof AppError ? err : fromFastifyError(err, config.maxBodyBytes);
      metrics?.observeError(undefined, toHttpStatus(appErr), 0);
      return sendError(req, reply, appErr, undefined);
    });
    for (const path of REMOTE_WRITE_PATHS) child.post(path, handler);
  });
  registerFlushRoute(app, deps);
}
