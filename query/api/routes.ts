/**
 * The Prometheus HTTP query API (http-api.md §3, §6): /query, /query_range, /series, /labels,
 * /label/:name/values, /status/buildinfo, /metadata, /query_exemplars, /format_query, /rules (empty),
 * and /-/ready, /-/healthy. Everything is registered inside an encapsulated plugin, so the form
 * parser, error handler and 404 handler never leak into routes others register on the same app.
 */
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { AuthConfig } from '../../common/auth.js';
import type { QueryConfig } from '../../common/config.js';
import { AppError, ErrorKind, badData, clip, toAppError, toPromErrorType } from '../../common/errors.js';
import { formatDurationMs } from '../../common/duration.js';
import { Overrides, type TenantLimits } from '../../common/limits.js';
import { requestTenants } from '../../common/tenant.js';
import type { Exemplar, Matcher, MetricMetadata, SampleBufferLease, TenantId } from '../../common/types.js';
import { PooledSampleBuffers, type StorageClient } from '../../storage/client/index.js';
import { LimitedQueryable, federatedQueryable, type Queryable } from '../queryable.js';
import type { Expr } from '../promql/ast.js';
import { parseExpr } from '../promql/parser.js';
import { printExpr } from '../promql/printer.js';
import type { QueryResult, QueryValue } from '../promql/value.js';
import {
  combinedLimits,
  federatedExemplars,
  federatedLabelNames,
  federatedLabelValues,
  federatedMetadata,
  federatedSeries,
} from './federation.js';
import { formatLabelsJson, formatQueryData, formatSeriesJson, formatStringArrayJson, formatTimestamp, formatValue, jsonString } from './format.js';
import type { QueryMetrics } from './metrics.js';
import {
  MAX_TIME_MS,
  MIN_TIME_MS,
  RequestParams,
  limitParam,
  optionalDurationParam,
  rangeParams,
  timeParam,
  unescapeLabelName,
} from './params.js';
import { fromFastifyError, sendError, sendSuccess } from './respond.js';
import { parseMatcherSets } from './selectors.js';
import { TENANT_HEADER } from './tenant.js';

/** Per-query options the API passes to the engine (structurally the engine's QueryOptions). */
export interface QueryEngineOptions {
  signal?: AbortSignal;
  /** Overrides the engine's lookback delta, ms. */
  lookbackDeltaMs?: number;
  /** Where to decode samples; released by the route once the response is serialised. */
  buffers?: SampleBufferLease;
}

/**
 * What the routes need from the PromQL engine; `Engine` in query/promql/engine.ts satisfies it.
 * Both methods reject only with AppError (parse errors as bad_data).
 */
export interface QueryEngine {
  instantQuery(q: Queryable, query: string, timeMs: number, opts?: QueryEngineOptions): Promise<QueryResult>;
  rangeQuery(q: Queryable, query: string, startMs: number, endMs: number, stepMs: number, opts?: QueryEngineOptions): Promise<QueryResult>;
}

/** `/status/buildinfo` payload, Prometheus-shaped; deliberately without `features` (http-api.md §5). */
export interface BuildInfo {
  readonly version: string;
  readonly revision: string;
  readonly branch: string;
  readonly buildUser: string;
  readonly buildDate: string;
  readonly goVersion: string;
}

/**
 * Default build info. `version` is the Prometheus API level we emulate, because Grafana gates
 * features (e.g. `match[]` on /labels) on the reported Prometheus version.
 */
export const DEFAULT_BUILD_INFO: BuildInfo = {
  version: '2.53.0',
  revision: 'promstore',
  branch: 'main',
  buildUser: 'promstore',
  buildDate: '',
  goVersion: `node${process.versions.node}`,
};

/** Dependencies of the query API. */
export interface QueryRoutesDeps {
  readonly storage: StorageClient;
  readonly engine: QueryEngine;
  readonly config: QueryConfig;
  /** Clock for an instant query without `time`, ms (default Date.now). */
  readonly now?: () => number;
  /** Overrides parts of DEFAULT_BUILD_INFO. */
  readonly buildInfo?: Partial<BuildInfo>;
  /** Path prefix of the API routes (default `/api/v1`; Mimir style would be `/prometheus/api/v1`). */
  readonly prefix?: string;
  /** Whether to register `/-/ready` and `/-/healthy` (default true; off when another component owns them). */
  readonly healthRoutes?: boolean;
  /** The current per-tenant limits (swapped on reload), read per request; absent = defaults for all. */
  readonly overrides?: () => Overrides;
  /** The current auth file, or null when authentication is off (the default). */
  readonly auth?: () => AuthConfig | null;
  /** Where to count queries and loaded samples; absent = not counted. */
  readonly metrics?: QueryMetrics;
}

const DEFAULT_OVERRIDES = new Overrides();

/** Options of the storage metadata lookups (not re-exported by storage/client/index.ts). */
type ClientLookupOptions = Parameters<StorageClient['labelNames']>[2];

// Lone UTF-16 surrogates: the only strings that are not well-formed Unicode text.
const LONE_SURROGATE = /\p{Cs}/u;
const FORM_CONTENT_TYPE = 'application/x-www-form-urlencoded';
const TRUNCATED_WARNING = 'results truncated due to limit';
const ANY_METHOD = ['GET', 'POST'] as const;

/** What a handler produces: pre-rendered `data` JSON and warnings. */
interface ApiResult {
  readonly data: string;
  readonly warnings: readonly string[];
}

/** Per-request context handed to API handlers. */
interface ApiContext {
  readonly params: RequestParams;
  /** The request's tenants: one, or several sorted ones for a federated (`a|b`) read. */
  readonly tenants: TenantId[];
  /** The tenants joined with `|`, for messages, logs and metric labels. */
  readonly tenantText: string;
  /** The limits in force (the strictest over federated tenants). */
  readonly limits: TenantLimits;
  readonly signal: AbortSignal;
  readonly request: FastifyRequest;
}

type ApiHandler = (ctx: ApiContext) => Promise<ApiResult>;

/**
 * Aborts `controller` when the client goes away before the response is written, so the engine
 * and storage stop working for nobody (Prometheus answers 499 canceled in that case). Returns the
 * function that stops watching.
 */
function abortOnClientClose(reply: FastifyReply, controller: AbortController): () => void {
  const onClose = (): void => {
    if (!reply.raw.writableFinished) controller.abort(new AppError(ErrorKind.Canceled, 'query-canceled', 'query canceled by client'));
  };
  reply.raw.once('close', onClose);
  // Called once the handler is done: a later 'close' is the normal end of the exchange.
  return () => reply.raw.off('close', onClose);
}

/**
 * Registers the query API on `app` inside an encapsulated child context (form-body parser, error
 * and 404 handlers stay local to it).
 */
export function registerQueryRoutes(app: FastifyInstance, deps: QueryRoutesDeps): void {
  const now = deps.now ?? Date.now;
  const buildInfo: BuildInfo = { ...DEFAULT_BUILD_INFO, ...deps.buildInfo };
  const { storage, engine, config, metrics } = deps;
  const overrides = deps.overrides ?? (() => DEFAULT_OVERRIDES);
  const slowMs = config.slowQueryThresholdMs ?? 0;

  /** Runs a PromQL call with the tenant's query budget, then records and (if slow) logs its cost. */
  async function runQuery(
    ctx: ApiContext,
    endpoint: string,
    query: string,
    timeoutParamMs: number | undefined,
    call: (q: Queryable, signal: AbortSignal) => Promise<QueryResult>,
  ): Promise<QueryResult> {
    const limited = new LimitedQueryable(
      federatedQueryable(storage, ctx.tenants),
      { maxSeries: ctx.limits.maxFetchedSeriesPerQuery, maxSamples: ctx.limits.maxFetchedSamplesPerQuery },
      JSON.stringify(ctx.tenantText),
    );
    const tenantTimeout = ctx.limits.queryTimeoutMs > 0 ? ctx.limits.queryTimeoutMs : undefined;
    const timeoutMs = timeoutParamMs === undefined ? tenantTimeout : tenantTimeout === undefined ? timeoutParamMs : Math.min(timeoutParamMs, tenantTimeout);
    const started = performance.now();
    let outcome = 'success';
    try {
      return await runEngine(config, ctx.signal, timeoutMs, (s) => call(limited, s));
    } catch (err) {
      outcome = toPromErrorType(toAppError(err));
      throw err;
    } finally {
      const ms = performance.now() - started;
      metrics?.observeLoaded(ctx.tenantText, limited.seriesLoaded, limited.samplesLoaded);
      if (slowMs > 0 && ms >= slowMs) {
        ctx.request.log.warn(
          { tenant: ctx.tenantText, endpoint, query: clip(query, 2000), durationMs: Math.round(ms), seriesLoaded: limited.seriesLoaded, samplesLoaded: limited.samplesLoaded, outcome },
          'slow query',
        );
      }
    }
  }

  /**
   * Runs an engine call as runQuery does and renders the answer. Samples are decoded into pooled
   * buffers leased for this query; the lease is released once the response is serialised, when
   * nothing refers to the decoded samples any more.
   */
  async function answerQuery(
    ctx: ApiContext,
    endpoint: string,
    query: string,
    timeoutParamMs: number | undefined,
    limit: number,
    call: (q: Queryable, signal: AbortSignal, buffers: PooledSampleBuffers) => Promise<QueryResult>,
  ): Promise<ApiResult> {
    const buffers = new PooledSampleBuffers();
    try {
      const result = await runQuery(ctx, endpoint, query, timeoutParamMs, (q, s) => call(q, s, buffers));
      return queryResponse(result, limit);
    } finally {
      buffers.release();
    }
  }

  app.register(
    async (child) => {
      if (!child.hasContentTypeParser(FORM_CONTENT_TYPE)) {
        child.addContentTypeParser(FORM_CONTENT_TYPE, { parseAs: 'string' }, (_req, body, done) => {
          done(null, new URLSearchParams(body as string));
        });
      }
      child.setErrorHandler((err, request, reply) => sendError(reply, fromFastifyError(err), request.log));
      child.setNotFoundHandler((request, reply) =>
        sendError(reply, new AppError(ErrorKind.NotFound, 'not-found', `no route for ${request.method} ${clip(request.url.split('?')[0] ?? '')}`), request.log),
      );

      const route = (methods: readonly ('GET' | 'POST')[], url: string, handler: ApiHandler): void => {
        child.route({
          method: [...methods],
          url,
          handler: async (request, reply) => {
            const started = performance.now();
            const endpoint = url.replace(/^\//, '');
            let outcome = 'success';
            try {
              const tenants = requestTenants(
                { orgId: joinHeader(request.headers[TENANT_HEADER]), authorization: joinHeader(request.headers.authorization) },
                config,
                deps.auth?.() ?? null,
                true,
              );
              const tenantText = tenants.join('|');
              request.log = request.log.child({ tenant: tenantText });
              const limits = combinedLimits(tenants, (t) => overrides().forTenant(t));
              const params = RequestParams.from(request.url, request.body);
              const controller = new AbortController();
              const stopWatching = abortOnClientClose(reply, controller);
              try {
                const result = await handler({ params, tenants, tenantText, limits, signal: controller.signal, request });
                return sendSuccess(reply, result.data, result.warnings);
              } finally {
                stopWatching();
              }
            } catch (err) {
              outcome = toPromErrorType(toAppError(err));
              throw err;
            } finally {
              metrics?.observeRequest(endpoint, outcome, (performance.now() - started) / 1000);
            }
          },
        });
      };

      route(ANY_METHOD, '/query', async (ctx) => {
        const { params } = ctx;
        const limit = limitParam(params);
        const timeMs = timeParam(params, 'time', now());
        const opts = queryOptions(params);
        const query = params.get('query') ?? '';
        return answerQuery(ctx, 'query', query, opts.timeoutMs, limit, (q, s, buffers) => engine.instantQuery(q, query, timeMs, engineOptions(s, opts.lookbackDeltaMs, buffers)));
      });

      route(ANY_METHOD, '/query_range', async (ctx) => {
        const { params, limits } = ctx;
        const limit = limitParam(params);
        const { startMs, endMs, stepMs } = rangeParams(params);
        if (limits.maxQueryLengthMs > 0 && endMs - startMs > limits.maxQueryLengthMs) {
          throw badData(
            'query-too-long',
            `the query time range exceeds the limit (query length: ${formatDurationMs(endMs - startMs)}, limit: ${formatDurationMs(limits.maxQueryLengthMs)}) for tenant ${JSON.stringify(ctx.tenantText)} (limits.max_query_length) [err-query-too-long]`,
          );
        }
        const opts = queryOptions(params);
        const query = params.get('query') ?? '';
        return answerQuery(ctx, 'query_range', query, opts.timeoutMs, limit, (q, s, buffers) =>
          engine.rangeQuery(q, query, startMs, endMs, stepMs, engineOptions(s, opts.lookbackDeltaMs, buffers)),
        );
      });

      route(ANY_METHOD, '/series', async ({ params, tenants, signal }) => {
        const matches = params.getAll('match[]');
        if (matches.length === 0) throw badData('missing-match', 'no match[] parameter provided');
        const lookup = lookupParams(params, signal);
        const sets = parseMatcherSets(matches);
        return truncated(formatSeriesJson, await federatedSeries(storage, tenants, sets, lookup.storageOpts), lookup.limit);
      });

      route(ANY_METHOD, '/labels', async ({ params, tenants, signal }) => {
        const lookup = lookupParams(params, signal);
        const sets = parseMatcherSets(params.getAll('match[]'));
        return truncated(formatStringArrayJson, await federatedLabelNames(storage, tenants, sets, lookup.storageOpts), lookup.limit);
      });

      route(['GET'], '/label/:name/values', async ({ params, tenants, signal, request }) => {
        const raw = (request.params as { name: string }).name;
        const name = unescapeLabelName(raw);
        // UTF-8 label names as in Prometheus 3: any non-empty, well-formed text.
        if (name === '' || LONE_SURROGATE.test(name)) {
          throw badData('invalid-label-name', `invalid label name: ${jsonString(clip(raw))}`);
        }
        const lookup = lookupParams(params, signal);
        const sets = parseMatcherSets(params.getAll('match[]'));
        return truncated(formatStringArrayJson, await federatedLabelValues(storage, tenants, name, sets, lookup.storageOpts), lookup.limit);
      });

      route(['GET'], '/metadata', async ({ params, tenants, signal }) => {
        const limit = nonNegativeIntParam(params, 'limit');
        const limitPerMetric = nonNegativeIntParam(params, 'limit_per_metric');
        const metric = params.get('metric') ?? '';
        const list = await federatedMetadata(storage, tenants, { metric, limit, limitPerMetric }, signal);
        return { data: formatMetadataJson(list), warnings: [] };
      });

      // We evaluate no rules; Grafana only needs the shape (http-api.md §5–6).
      route(['GET'], '/rules', async () => ({ data: '{"groups":[]}', warnings: [] }));

      route(ANY_METHOD, '/query_exemplars', async ({ params, tenants, signal }) => {
        const query = params.get('query') ?? '';
        const startMs = timeParam(params, 'start', MIN_TIME_MS);
        const endMs = timeParam(params, 'end', MAX_TIME_MS);
        if (endMs < startMs) throw badData('bad-range', 'invalid parameter "end": end timestamp must not be before start time');
        let expr: Expr;
        try {
          expr = parseExpr(query);
        } catch (err) {
          const e = toAppError(err);
          throw new AppError(e.kind, e.code, `invalid parameter "query": ${e.message}`, { cause: err });
        }
        const sets = selectorMatcherSets(expr);
        const list = await federatedExemplars(storage, tenants, sets, startMs, endMs, signal);
        return { data: formatExemplarsJson(list), warnings: [] };
      });

      route(ANY_METHOD, '/format_query', async ({ params }) => {
        const query = params.get('query') ?? '';
        try {
          return { data: jsonString(printExpr(parseExpr(query))), warnings: [] };
        } catch (err) {
          const e = toAppError(err);
          throw new AppError(e.kind, e.code, `invalid parameter "query": ${e.message}`, { cause: err });
        }
      });

      const buildInfoJson =
        `{"version":${jsonString(buildInfo.version)},"revision":${jsonString(buildInfo.revision)},` +
        `"branch":${jsonString(buildInfo.branch)},"buildUser":${jsonString(buildInfo.buildUser)},` +
        `"buildDate":${jsonString(buildInfo.buildDate)},"goVersion":${jsonString(buildInfo.goVersion)}}`;
      child.get('/status/buildinfo', async (_request, reply) => sendSuccess(reply, buildInfoJson));
    },
    { prefix: deps.prefix ?? '/api/v1' },
  );

  if (deps.healthRoutes !== false) {
    app.register(async (child) => {
      child.get('/-/healthy', async (_request, reply) => reply.code(200).type('text/plain; charset=utf-8').send('healthy'));
      child.get('/-/ready', async (_request, reply) => {
        const ok = await storage.ready().catch(() => false);
        return reply
          .code(ok ? 200 : 503)
          .type('text/plain; charset=utf-8')
          .send(ok ? 'ready' : 'not ready');
      });
    });
  }
}

interface ParsedQueryOptions {
  readonly timeoutMs: number | undefined;
  readonly lookbackDeltaMs: number | undefined;
}

/** `timeout` and `lookback_delta`, parsed in Prometheus's order. */
function queryOptions(params: RequestParams): ParsedQueryOptions {
  const timeoutMs = optionalDurationParam(params, 'timeout');
  const lookbackDeltaMs = optionalDurationParam(params, 'lookback_delta');
  return { timeoutMs, lookbackDeltaMs };
}

function engineOptions(signal: AbortSignal, lookbackDeltaMs: number | undefined, buffers: PooledSampleBuffers): QueryEngineOptions {
  // lookback_delta=0 (or negative) means "engine default", as in Prometheus.
  return lookbackDeltaMs !== undefined && lookbackDeltaMs > 0 ? { signal, lookbackDeltaMs, buffers } : { signal, buffers };
}

/**
 * Runs an engine call under the request's signal and, when the `timeout` parameter is below the
 * configured engine timeout, a timer that aborts it. An abort caused by that timer is reported as
 * a timeout (503), whatever the engine called it; a parse error (bad_data) is reported as an
 * invalid `query` parameter, as Prometheus does.
 */
async function runEngine(
  config: QueryConfig,
  requestSignal: AbortSignal,
  timeoutMs: number | undefined,
  call: (signal: AbortSignal) => Promise<QueryResult>,
): Promise<QueryResult> {
  let signal = requestSignal;
  let timer: NodeJS.Timeout | undefined;
  let timedOut = false;
  if (timeoutMs !== undefined && timeoutMs < config.timeoutMs) {
    const controller = new AbortController();
    const timeoutError = new AppError(ErrorKind.Timeout, 'query-timeout', 'query timed out in expression evaluation');
    const onRequestAbort = (): void => controller.abort(requestSignal.reason);
    requestSignal.addEventListener('abort', onRequestAbort, { once: true });
    timer = setTimeout(() => {
      timedOut = true;
      controller.abort(timeoutError);
    }, Math.max(0, timeoutMs));
    signal = controller.signal;
    try {
      return await callEngine(call, signal, () => (timedOut ? timeoutError : null));
    } finally {
      clearTimeout(timer);
      requestSignal.removeEventListener('abort', onRequestAbort);
    }
  }
  return callEngine(call, signal, () => null);
}

async function callEngine(
  call: (signal: AbortSignal) => Promise<QueryResult>,
  signal: AbortSignal,
  timeoutError: () => AppError | null,
): Promise<QueryResult> {
  try {
    return await call(signal);
  } catch (err) {
    const timeout = timeoutError();
    if (timeout !== null) throw timeout;
    if (err instanceof AppError && err.kind === ErrorKind.BadData && !err.message.startsWith('invalid parameter')) {
      throw new AppError(err.kind, err.code, `invalid parameter "query": ${err.message}`, { cause: err });
    }
    throw err;
  }
}

/** Applies `limit` to vectors and matrices (not scalars/strings) and renders the query data. */
function queryResponse(result: QueryResult, limit: number): ApiResult {
  let value: QueryValue = result.value;
  const warnings = [...result.warnings];
  if (limit > 0) {
    if (value.type === 'vector' && value.elements.length > limit) {
      value = { ...value, elements: value.elements.slice(0, limit) };
      warnings.push(TRUNCATED_WARNING);
    } else if (value.type === 'matrix' && value.series.length > limit) {
      value = { ...value, series: value.series.slice(0, limit) };
      warnings.push(TRUNCATED_WARNING);
    }
  }
  return { data: formatQueryData(value), warnings };
}

interface LookupParams {
  readonly limit: number;
  readonly storageOpts: ClientLookupOptions;
}

/** start/end (default: all time) and limit of the metadata endpoints. */
function lookupParams(params: RequestParams, signal: AbortSignal): LookupParams {
  const startMs = timeParam(params, 'start', MIN_TIME_MS);
  const endMs = timeParam(params, 'end', MAX_TIME_MS);
  const limit = limitParam(params);
  // One more than the limit tells us whether the result was truncated.
  return { limit, storageOpts: { startMs, endMs, limit: limit > 0 ? limit + 1 : 0, signal } };
}

function truncated<T>(render: (items: readonly T[]) => string, items: readonly T[], limit: number): ApiResult {
  if (limit > 0 && items.length > limit) return { data: render(items.slice(0, limit)), warnings: [TRUNCATED_WARNING] };
  return { data: render(items), warnings: [] };
}

function joinHeader(v: string | string[] | undefined): string | undefined {
  // Node joins repeated custom headers with ", ", which then fails validation; arrays only come from inject().
  return Array.isArray(v) ? v.join(', ') : v;
}

/** A non-negative integer parameter (0 when absent); negative or garbage → bad_data. */
function nonNegativeIntParam(params: RequestParams, name: string): number {
  const raw = params.get(name);
  if (raw === undefined || raw === '') return 0;
  const n = Number(raw);
  if (!Number.isSafeInteger(n) || n < 0) throw badData('invalid-limit', `invalid parameter "${name}": cannot parse ${JSON.stringify(clip(raw))} to a non-negative integer`);
  return n;
}

/** Every vector selector's matchers in a query, in order of appearance (Prometheus parser.ExtractSelectors). */
export function selectorMatcherSets(expr: Expr): Matcher[][] {
  const out: Matcher[][] = [];
  const walk = (e: Expr): void => {
    switch (e.kind) {
      case 'VectorSelector':
        out.push([...e.matchers]);
        return;
      case 'MatrixSelector':
        walk(e.vectorSelector);
        return;
      case 'SubqueryExpr':
      case 'ParenExpr':
      case 'UnaryExpr':
        walk(e.expr);
        return;
      case 'BinaryExpr':
        walk(e.lhs);
        walk(e.rhs);
        return;
      case 'AggregateExpr':
        if (e.param !== null) walk(e.param);
        walk(e.expr);
        return;
      case 'Call':
        for (const a of e.args) walk(a);
        return;
      default:
        return;
    }
  };
  walk(expr);
  return out;
}

/** `/metadata` data: `{"<metric>":[{"type":…,"help":…,"unit":…},…],…}` in metric order. */
export function formatMetadataJson(list: readonly MetricMetadata[]): string {
  const parts: string[] = [];
  let current: string | null = null;
  let entries: string[] = [];
  const flush = (): void => {
    if (current !== null) parts.push(`${jsonString(current)}:[${entries.join(',')}]`);
  };
  for (const m of list) {
    if (m.metric !== current) {
      flush();
      current = m.metric;
      entries = [];
    }
    entries.push(`{"type":${jsonString(m.type)},"help":${jsonString(m.help)},"unit":${jsonString(m.unit)}}`);
  }
  flush();
  return `{${parts.join(',')}}`;
}

/** `/query_exemplars` data: one entry per series, exemplars in time order (input sorted by series then time). */
export function formatExemplarsJson(list: readonly Exemplar[]): string {
  const parts: string[] = [];
  let i = 0;
  while (i < list.length) {
    const first = list[i] as Exemplar;
    const key = first.seriesLabels.join('\xff');
    const items: string[] = [];
    while (i < list.length && (list[i] as Exemplar).seriesLabels.join('\xff') === key) {
      const e = list[i] as Exemplar;
      items.push(`{"labels":${formatLabelsJson(e.labels)},"value":${jsonString(formatValue(e.value))},"timestamp":${formatTimestamp(e.tsMs)}}`);
      i++;
    }
    parts.push(`{"seriesLabels":${formatLabelsJson(first.seriesLabels)},"exemplars":[${items.join(',')}]}`);
  }
  return `[${parts.join(',')}]`;
}
