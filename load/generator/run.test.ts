import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import type { Payload } from './payloads.js';
import { nearestRank, runLoad } from './run.js';

interface Received {
  body: Buffer;
  headers: http.IncomingHttpHeaders;
}

/** A loopback server whose reply is chosen per request by `reply`. */
async function startServer(reply: (r: Received, res: http.ServerResponse) => void): Promise<{ url: URL; received: Received[]; server: http.Server }> {
  const received: Received[] = [];
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const r = { body: Buffer.concat(chunks), headers: req.headers };
      received.push(r);
      reply(r, res);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  servers.push(server);
  return { url: new URL(`http://127.0.0.1:${port}/api/v1/push`), received, server };
}

const servers: http.Server[] = [];
afterEach(async () => {
  for (const s of servers.splice(0)) {
    s.closeAllConnections();
    await new Promise<void>((resolve) => s.close(() => resolve()));
  }
});

/** Payload whose body is `stream:index` in ASCII, so the server can tell requests apart. */
function payload(stream: number, index: number, samples = 10): Payload {
  return { body: new TextEncoder().encode(`${stream}:${index}`), samples };
}

function streams(count: number, perStream: number): Payload[][] {
  return Array.from({ length: count }, (_, l) => Array.from({ length: perStream }, (_, i) => payload(l, i)));
}

const COMMON = { tenant: 'team-a', durationMs: 0, timeoutMs: 5000, maxErrors: 0, concurrency: 1 };

describe('runLoad', () => {
  it('sends every lane in order with remote-write headers and counts samples', async () => {
    const { url, received } = await startServer((_r, res) => {
      res.statusCode = 204;
      res.end();
    });
    const report = await runLoad({ ...COMMON, concurrency: 3, url, streams: streams(3, 4) });
    expect(report).toMatchObject({ concurrency: 3, requests: 12, okRequests: 12, samplesOk: 120, stopReason: 'payloads-exhausted', errors: {} });
    expect(report.bytesSent).toBe(12 * 3);
    expect(report.latencyMs.p50).toBeGreaterThan(0);
    expect(report.latencyMs.p99).toBeGreaterThanOrEqual(report.latencyMs.p50);
    expect(report.samplesPerSec).toBeGreaterThan(0);
    for (let l = 0; l < 3; l++) {
      const order = received.map((r) => r.body.toString()).filter((b) => b.startsWith(`${l}:`));
      expect(order).toEqual([`${l}:0`, `${l}:1`, `${l}:2`, `${l}:3`]);
    }
    const h = received[0]?.headers ?? {};
    expect(h['content-encoding']).toBe('snappy');
    expect(h['content-type']).toBe('application/x-protobuf');
    expect(h['x-prometheus-remote-write-version']).toBe('0.1.0');
    expect(h['x-scope-orgid']).toBe('team-a');
    expect(h['user-agent']).toMatch(/promstore-load/);
  });

  it.each([
    { name: 'more streams than workers', streamCount: 5, perStream: 3, concurrency: 2, want: 2 },
    { name: 'more workers than streams', streamCount: 2, perStream: 4, concurrency: 8, want: 2 },
    { name: 'uneven streams', streamCount: 3, perStream: 0, concurrency: 3, want: 3 },
  ])('never has two requests of a stream in flight: $name', async ({ streamCount, perStream, concurrency, want }) => {
    const input = streams(streamCount, perStream);
    if (perStream === 0) input.forEach((s, i) => s.push(...Array.from({ length: i * 3 + 1 }, (_, j) => payload(i, j))));
    const total = input.reduce((n, s) => n + s.length, 0);
    const inFlight = new Map<string, number>();
    let inFlightTotal = 0;
    let maxInFlight = 0;
    let sameStreamOverlaps = 0;
    const { url, received } = await startServer((r, res) => {
      const stream = r.body.toString().split(':')[0] ?? '';
      const n = (inFlight.get(stream) ?? 0) + 1;
      inFlight.set(stream, n);
      if (n > 1) sameStreamOverlaps++;
      inFlightTotal++;
      maxInFlight = Math.max(maxInFlight, inFlightTotal);
      // Answer a little later so other workers get a chance to overlap.
      setTimeout(() => {
        inFlight.set(stream, n - 1);
        inFlightTotal--;
        res.writeHead(204).end();
      }, 2);
    });
    const report = await runLoad({ ...COMMON, concurrency, url, streams: input });
    expect(report.concurrency).toBe(want);
    expect(report.requests).toBe(total);
    expect(sameStreamOverlaps).toBe(0);
    expect(maxInFlight).toBeLessThanOrEqual(want);
    expect(maxInFlight).toBeGreaterThan(1);
    for (let st = 0; st < streamCount; st++) {
      const order = received.map((r) => r.body.toString()).filter((b) => b.startsWith(`${st}:`));
      expect(order).toEqual((input[st] ?? []).map((_, i) => `${st}:${i}`));
    }
  });

  it('omits X-Scope-OrgID for an empty tenant', async () => {
    const { url, received } = await startServer((_r, res) => res.writeHead(200).end());
    await runLoad({ ...COMMON, tenant: '', url, streams: streams(1, 1) });
    expect(received[0]?.headers['x-scope-orgid']).toBeUndefined();
  });

  it('counts failures by status with the first body as example', async () => {
    const { url } = await startServer((r, res) => {
      const index = Number(r.body.toString().split(':')[1]);
      if (index % 2 === 1) res.writeHead(400).end(`out of order sample ${index}`);
      else if (index === 2) res.writeHead(503).end('storage unavailable');
      else res.writeHead(204).end();
    });
    const report = await runLoad({ ...COMMON, url, streams: streams(1, 6) });
    expect(report.requests).toBe(6);
    expect(report.okRequests).toBe(2);
    expect(report.samplesOk).toBe(20);
    expect(report.errors).toEqual({ '400': 3, '503': 1 });
    expect(report.errorExamples).toEqual({ '400': 'out of order sample 1', '503': 'storage unavailable' });
  });

  it('reports each completed request with the running counts, failures included', async () => {
    const { url } = await startServer((r, res) => {
      const index = Number(r.body.toString().split(':')[1]);
      res.writeHead(index === 1 ? 400 : 204).end();
    });
    const seen: [number, number][] = [];
    const report = await runLoad({ ...COMMON, url, streams: streams(1, 4), onRequestDone: (n, samples) => seen.push([n, samples]) });
    // payload(0, i) carries 10 samples; request 1 failed, so its samples are not counted.
    expect(seen).toEqual([
      [1, 10],
      [2, 10],
      [3, 20],
      [4, 30],
    ]);
    expect(report.samplesOk).toBe(30);
  });

  it('stops after maxErrors failures', async () => {
    const { url, received } = await startServer((_r, res) => res.writeHead(500).end('boom'));
    const report = await runLoad({ ...COMMON, maxErrors: 3, url, streams: streams(1, 20) });
    expect(report.stopReason).toBe('max-errors');
    expect(report.requests).toBe(3);
    expect(received.length).toBe(3);
  });

  it('stops starting requests once the duration has elapsed', async () => {
    // A fake clock the server advances by 100 ms per request: requests start at 0, 100, 200; 300 ≥ 250 stops.
    let t = 0;
    const { url } = await startServer((_r, res) => {
      t += 100;
      res.writeHead(204).end();
    });
    const report = await runLoad({ ...COMMON, durationMs: 250, now: () => t, url, streams: streams(1, 10) });
    expect(report.stopReason).toBe('duration');
    expect(report.requests).toBe(3);
    expect(report.elapsedMs).toBe(300);
    expect(report.requestsPerSec).toBeCloseTo(10, 6);
    expect(report.latencyMs).toMatchObject({ p50: 100, max: 100, mean: 100 });
  });

  it('reports connection errors by errno code', async () => {
    const { url, server } = await startServer((_r, res) => res.writeHead(204).end());
    servers.pop();
    await new Promise<void>((resolve) => server.close(() => resolve()));
    const report = await runLoad({ ...COMMON, maxErrors: 2, url, streams: streams(1, 5) });
    expect(report.errors).toEqual({ ECONNREFUSED: 2 });
    expect(report.okRequests).toBe(0);
    expect(report.latencyMs.max).toBe(0);
  });

  it('reports timeouts', async () => {
    const { url } = await startServer(() => {
      // Never answers.
    });
    const report = await runLoad({ ...COMMON, timeoutMs: 50, url, streams: streams(1, 1) });
    expect(report.errors).toEqual({ timeout: 1 });
  });

  it('rejects a non-http URL', async () => {
    await expect(runLoad({ ...COMMON, url: new URL('ftp://127.0.0.1/'), streams: [] })).rejects.toMatchObject({ code: 'bad-load-option' });
  });
});

describe('nearestRank', () => {
  const sorted = Float64Array.from([1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
  it.each([
    [0, 1],
    [0.5, 5],
    [0.9, 9],
    [0.99, 10],
    [1, 10],
  ])('p%s → %s', (p, want) => {
    expect(nearestRank(sorted, p)).toBe(want);
  });
  it('handles a single element', () => {
    expect(nearestRank(Float64Array.from([7]), 0.99)).toBe(7);
  });
});
