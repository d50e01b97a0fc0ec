/**
 * The Prometheus HTTP query API (http-api.md §3, §6): /query, /query_range, /series, /labels,
 * /label/:name/values, /status/buildinfo, Grafana stubs (/metadata, /rules, /query_exemplars),
 * and /-/ready, /-/healthy. Everything is registered inside an encapsulated plugin, so the form
 * parser, error handler and 404 handler never leak into routes others register on the same app.
 */
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { QueryConfig } from '../../common/config.js';
import { AppError, ErrorKind, badData, clip } from '../../common/errors.js';
import { compareLabels, compareStrings, seriesKey } from '../../common/labels.js';
import type { Labels, TenantId } from '../../common/types.js';
import type { StorageClient } from '../../storage/client/index.js';
import { queryableForTenant, type Queryable } from '../queryable.js';
import type { QueryResult, QueryValue } from '../promql/value.js';
import { formatQueryData, formatSeriesJson, formatStringArrayJson, jsonString } from './format.js';
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
import { TENANT_HEADER, tenantFromHeader } from './tenant.js';

/** Per-query options the API passes to the engine (structurally the engine's QueryOptions). */
export interface QueryEngineOptions {
  signal?: AbortSignal;
  /** Overrides the engine's lookback delta, ms. */
  lookbackDeltaMs?: number;
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
}

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
  readonly tenant: TenantId;
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
  const { storage, engine, config } = deps;

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
            const tenant = tenantFromHeader(request.headers[TENANT_HEADER], config);
            const params = RequestParams.from(request.url, request.body);
            const controller = new AbortController();
            const stopWatching = abortOnClientClose(reply, controller);
            try {
              const result = await handler({ params, tenant, signal: controller.signal, request });
              return sendSuccess(reply, result.data, result.warnings);
            } finally {
              stopWatching();
            }
          },
        });
      };

      route(ANY_METHOD, '/query', async ({ params, tenant, signal }) => {
        const limit = limitParam(params);
        const timeMs = timeParam(params, 'time', now());
        const opts = queryOptions(params);
        const query = params.get('query') ?? '';
        const result = await runEngine(config, signal, opts.timeoutMs, (s) =>
          engine.instantQuery(queryableForTenant(storage, tenant), query, timeMs, engineOptions(s, opts.lookbackDeltaMs)),
        );
        return queryResponse(result, limit);
      });

      route(ANY_METHOD, '/query_range', async ({ params, tenant, signal }) => {
        const limit = limitParam(params);
        const { startMs, endMs, stepMs } = rangeParams(params);
        const opts = queryOptions(params);
        const query = params.get('query') ?? '';
        const result = await runEngine(config, signal, opts.timeoutMs, (s) =>
          engine.rangeQuery(queryableForTenant(storage, tenant), query, startMs, endMs, stepMs, engineOptions(s, opts.lookbackDeltaMs)),
        );
        return queryResponse(result, limit);
      });

      route(ANY_METHOD, '/series', async ({ params, tenant, signal }) => {
        const matches = params.getAll('match[]');
        if (matches.length === 0) throw badData('missing-match', 'no match[] parameter provided');
        const lookup = lookupParams(params, signal);
        const sets = parseMatcherSets(matches);
        const results = await Promise.all(sets.map((set) => storage.series(tenant, set, lookup.storageOpts)));
        return truncated(formatSeriesJson, unionSeries(results), lookup.limit);
      });

      route(ANY_METHOD, '/labels', async ({ params, tenant, signal }) => {
        const lookup = lookupParams(params, signal);
        const sets = parseMatcherSets(params.getAll('match[]'));
        const results = await Promise.all(
          (sets.length === 0 ? [[]] : sets).map((set) => storage.labelNames(tenant, set, lookup.storageOpts)),
        );
        return truncated(formatStringArrayJson, unionStrings(results), lookup.limit);
      });

      route(['GET'], '/label/:name/values', async ({ params, tenant, signal, request }) => {
        const raw = (request.params as { name: string }).name;
        const name = unescapeLabelName(raw);
        // UTF-8 label names as in Prometheus 3: any non-empty, well-formed text.
        if (name === '' || LONE_SURROGATE.test(name)) {
          throw badData('invalid-label-name', `invalid label name: ${jsonString(clip(raw))}`);
        }
        const lookup = lookupParams(params, signal);
        const sets = parseMatcherSets(params.getAll('match[]'));
        const results = await Promise.all(
          (sets.length === 0 ? [[]] : sets).map((set) => storage.labelValues(tenant, name, set, lookup.storageOpts)),
        );
        return truncated(formatStringArrayJson, unionStrings(results), lookup.limit);
      });

      // Grafana probes these (http-api.md §6); we keep no metadata, rules or exemplars.
      route(['GET'], '/metadata', async () => ({ data: '{}', warnings: [] }));
      route(['GET'], '/rules', async () => ({ data: '{"groups":[]}', warnings: [] }));
      route(ANY_METHOD, '/query_exemplars', async () => ({ data: '[]', warnings: [] }));

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

function engineOptions(signal: AbortSignal, lookbackDeltaMs: number | undefined): QueryEngineOptions {
  // lookback_delta=0 (or negative) means "engine default", as in Prometheus.
  return lookbackDeltaMs !== undefined && lookbackDeltaMs > 0 ? { signal, lookbackDeltaMs } : { signal };
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

/** Union of sorted label sets, deduplicated by series key, sorted by label set. */
function unionSeries(results: Labels[][]): Labels[] {
  if (results.length === 1) return results[0] as Labels[];
  const seen = new Map<string, Labels>();
  for (const list of results) for (const labels of list) seen.set(seriesKey(labels), labels);
  return [...seen.values()].sort(compareLabels);
}

/** Union of sorted string lists, deduplicated and sorted. */
function unionStrings(results: string[][]): string[] {
  if (results.length === 1) return results[0] as string[];
  return [...new Set(results.flat())].sort(compareStrings);
}

function truncated<T>(render: (items: readonly T[]) => string, items: readonly T[], limit: number): ApiResult {
  if (limit > 0 && items.length > limit) return { data: render(items.slice(0, limit)), warnings: [TRUNCATED_WARNING] };
  return { data: render(items), warnings: [] };
}
