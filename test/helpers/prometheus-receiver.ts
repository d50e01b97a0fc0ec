/**
 * A real Prometheus that only receives remote write (`--web.enable-remote-write-receiver`) and
 * answers queries: no scrapes, no remote_write of its own. Used by the PromQL differential test and
 * the latency comparison.
 */
import { launchPrometheus, type RunningPrometheus } from './prometheus.js';

/** Starts Prometheus on a free loopback port with the remote-write receiver on; waits until ready. */
export async function startPrometheusReceiver(binary: string, extraArgs: string[] = []): Promise<RunningPrometheus> {
  return launchPrometheus(binary, () => 'global:\n  scrape_interval: 1m\nscrape_configs: []\n', ['--web.enable-remote-write-receiver', ...extraArgs]);
}
