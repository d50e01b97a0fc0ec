// @ts-check
/**
 * k6 query load: a Grafana-like dashboard refresh, i.e. the benchmark's dashboard queries
 * (dashboard-queries.json, the same list load/bench runs) sent in parallel as one batch per
 * iteration, range queries over the last RANGE at the query's step, instant queries at "now".
 *
 *   k6 run -e BASE_URL=http://127.0.0.1:9009 -e PREFIX=load_ load/k6/query.js
 *
 * The data must exist first: write it with the Node generator with --histograms (or
 * remote-write.js replaying such payloads), ending at the current time.
 *
 * Environment: BASE_URL (default http://127.0.0.1:9009), TENANT (X-Scope-OrgID, default "load";
 * "" omits it), PREFIX (metric prefix, default "load_"), RATE (dashboard refreshes per second,
 * default 2), DURATION (default 1m), VUS (preallocated, default 8), P99_MS (default 2000),
 * P95_MS (default 1000).
 */
import { check } from 'k6';
import http from 'k6/http';

const BASE_URL = __ENV.BASE_URL || 'http://127.0.0.1:9009';
const TENANT = __ENV.TENANT === undefined ? 'load' : __ENV.TENANT;
const PREFIX = __ENV.PREFIX || 'load_';

/**
 * @typedef {{ name: string, expr: string, kind: 'instant' | 'range', rangeSec: number, stepSec: number }} DashboardQuery
 */

/** @type {DashboardQuery[]} */
const queries = JSON.parse(open('./dashboard-queries.json')).map(
  /** @param {DashboardQuery} q */ (q) => ({ ...q, expr: q.expr.split('{{prefix}}').join(PREFIX) }),
);

/** @type {import('k6/options').Options} */
export const options = {
  scenarios: {
    dashboards: {
      executor: 'constant-arrival-rate',
      rate: Number(__ENV.RATE || '2'),
      timeUnit: '1s',
      duration: __ENV.DURATION || '1m',
      preAllocatedVUs: Number(__ENV.VUS || '8'),
    },
  },
  thresholds: {
    http_req_failed: ['rate<0.01'],
    http_req_duration: [`p(95)<${__ENV.P95_MS || '1000'}`, `p(99)<${__ENV.P99_MS || '2000'}`],
    checks: ['rate>0.99'],
  },
};

/** @type {Record<string, string>} */
const headers = { 'Content-Type': 'application/x-www-form-urlencoded' };
if (TENANT !== '') headers['X-Scope-OrgID'] = TENANT;

/** Form-encodes a flat record (k6 has no URLSearchParams). @param {Record<string, string>} params */
function form(params) {
  return Object.keys(params)
    .map((k) => `${encodeURIComponent(k)}=${encodeURIComponent(params[k] ?? '')}`)
    .join('&');
}

export default function () {
  // Grafana aligns range queries to the step; so do we, which also lets caches (if any) work alike.
  const nowSec = Math.floor(Date.now() / 1000);
  /** @type {import('k6/http').BatchRequest[]} */
  const batch = queries.map((q) => {
    const end = nowSec - (nowSec % Math.max(1, q.stepSec));
    /** @type {Record<string, string>} */
    const params =
      q.kind === 'range'
        ? { query: q.expr, start: String(end - q.rangeSec), end: String(end), step: String(q.stepSec) }
        : { query: q.expr, time: String(nowSec) };
    const path = q.kind === 'range' ? '/api/v1/query_range' : '/api/v1/query';
    return { method: 'POST', url: `${BASE_URL}${path}`, body: form(params), params: { headers, tags: { name: q.name } } };
  });
  const responses = http.batch(batch);
  for (const res of responses) {
    check(res, {
      'status is 200': (r) => r.status === 200,
      'status is success': (r) => r.status === 200 && /"status":"success"/.test(String(r.body)),
    });
  }
}
