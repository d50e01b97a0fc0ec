// @ts-check
/**
 * k6 remote-write load: replays the bodies the Node generator pre-encoded
 * (`npm run load -- --write-payloads DIR …`, see load/README.md) against a remote-write 1.0
 * endpoint at a target request rate, so k6 and the Node generator send byte-identical data.
 *
 *   k6 run -e PAYLOAD_DIR=/abs/payloads -e URL=http://127.0.0.1:9009/api/v1/push \
 *          -e RATE=50 -e VUS=4 load/k6/remote-write.js
 *
 * Ordering: like the Node generator, each series must arrive in timestamp order, so every request
 * stream (manifest `stream`) belongs to one VU (`stream % VUS == VU - 1`), which sends its requests
 * in manifest order, one at a time. Each VU loads only its own files, once, in its init context.
 * Pacing: every VU aims at RATE / VUS requests per second and sleeps off what is left of its slot.
 *
 * Environment: PAYLOAD_DIR (required, absolute path), URL (default http://127.0.0.1:9009/api/v1/push),
 * TENANT (X-Scope-OrgID, default "load"; "" omits it), RATE (requests/s over all VUs, default 20),
 * VUS (default 4), MAX_DURATION (default 10m), P99_MS (threshold, default 2000).
 */
import { check, sleep } from 'k6';
import http from 'k6/http';
import { Counter } from 'k6/metrics';

const PAYLOAD_DIR = __ENV.PAYLOAD_DIR || '';
const URL = __ENV.URL || 'http://127.0.0.1:9009/api/v1/push';
const TENANT = __ENV.TENANT === undefined ? 'load' : __ENV.TENANT;
const RATE = Number(__ENV.RATE || '20');
const VUS = Number(__ENV.VUS || '4');
const P99_MS = Number(__ENV.P99_MS || '2000');

/**
 * manifest.json written by load/generator (format promstore-load-payloads/1).
 * @typedef {{ file: string, stream: number, samples: number }} ManifestEntry
 * @typedef {{ format: string, streams: number, samples: number, requests: ManifestEntry[] }} Manifest
 */

if (PAYLOAD_DIR === '') throw new Error('set PAYLOAD_DIR to a directory written by: npm run load -- --write-payloads DIR');

/** @type {Manifest} */
const manifest = JSON.parse(open(`${PAYLOAD_DIR}/manifest.json`));
if (manifest.format !== 'promstore-load-payloads/1') throw new Error(`unknown manifest format ${manifest.format}`);

/** Requests of this VU, in send order (empty in the options-only init context, where __VU is 0). */
const mine = /** @type {Array<{ body: ArrayBuffer, samples: number }>} */ ([]);
if (__VU > 0) {
  for (const r of manifest.requests) {
    if (r.stream % VUS === __VU - 1) mine.push({ body: open(`${PAYLOAD_DIR}/${r.file}`, 'b'), samples: r.samples });
  }
}

/** Most requests any VU has: every VU runs that many iterations and idles when it runs out. */
function maxPerVu() {
  const counts = new Array(VUS).fill(0);
  for (const r of manifest.requests) counts[r.stream % VUS]++;
  return Math.max(1, ...counts);
}

/** Samples of requests answered 2xx: k6 prints its total and rate, comparable to the Node generator's samples/s. */
const samplesAccepted = new Counter('samples_accepted');

/** @type {import('k6/options').Options} */
export const options = {
  scenarios: {
    replay: {
      executor: 'per-vu-iterations',
      vus: VUS,
      iterations: maxPerVu(),
      maxDuration: __ENV.MAX_DURATION || '10m',
    },
  },
  thresholds: {
    http_req_failed: ['rate<0.01'],
    http_req_duration: [`p(99)<${P99_MS}`],
    checks: ['rate>0.99'],
  },
};

/** @type {Record<string, string>} */
const headers = {
  'Content-Encoding': 'snappy',
  'Content-Type': 'application/x-protobuf',
  'X-Prometheus-Remote-Write-Version': '0.1.0',
  'User-Agent': 'promstore-load-k6/0.1.0',
};
if (TENANT !== '') headers['X-Scope-OrgID'] = TENANT;

let next = 0;

export default function () {
  const slotSec = VUS / RATE;
  const started = Date.now();
  const req = mine[next];
  if (req === undefined) return;
  next++;
  const res = http.post(URL, req.body, { headers, tags: { name: 'remote-write' } });
  const ok = check(res, { 'status is 2xx': (r) => r.status >= 200 && r.status < 300 });
  if (ok) samplesAccepted.add(req.samples);
  const left = slotSec - (Date.now() - started) / 1000;
  if (left > 0) sleep(left);
}
