import { bench, describe } from 'vitest';
import { lex } from './lexer.js';
import { parseExpr } from './parser.js';

// Queries as Grafana dashboards (node-exporter, RED panels) send them; built once.
const QUERIES = [
  'sum by (instance) (rate(node_cpu_seconds_total{mode!="idle",job="node"}[5m]))',
  '100 - (avg by (instance) (irate(node_cpu_seconds_total{mode="idle"}[1m0s])) * 100)',
  'histogram_quantile(0.99, sum by (le, route) (rate(http_request_duration_seconds_bucket{job=~"api|web"}[5m])))',
  'node_filesystem_avail_bytes{fstype!~"tmpfs|overlay"} / node_filesystem_size_bytes * 100 < bool 10',
  'sum(rate(http_requests_total{code=~"5.."}[5m])) / ignoring(code) group_left sum(rate(http_requests_total[5m]))',
  'topk(10, max_over_time(process_resident_memory_bytes[1h:1m] offset 1d))',
  'label_replace(up{job="node"} == 0, "host", "$1", "instance", "([^:]+):.*")',
];
const TOTAL_CHARS = QUERIES.reduce((n, q) => n + q.length, 0);

describe(`lex + parse ${QUERIES.length} dashboard queries (${TOTAL_CHARS} chars per iteration)`, () => {
  bench('lex only', () => {
    for (const q of QUERIES) lex(q);
  });
  bench('parseExpr (lex + parse + check)', () => {
    for (const q of QUERIES) parseExpr(q);
  });
});
