import { errorMessage, OperatorError } from '../errors.ts';
import { collect, type PrometheusClient } from './prometheus.ts';
import type { PrometheusRead, PrometheusSource } from './prometheus-source.ts';

// The tuner's gather step for Neurons whose metricsSource is prometheus: one client per base URL,
// kept between passes, and per pass one read per (URL, series, window), shared by the Neurons (and
// by both decisions of one Neuron) that ask for it.

/** This pass's Prometheus read of one source; undefined when no URL is set. */
export type PassRead = (s: PrometheusSource) => Promise<PrometheusRead | undefined>;

/** Returns a function that starts a pass's reads (call it once per pass). */
export function createPrometheusReads(prometheus: (url: string) => PrometheusClient): () => PassRead {
  const clients = new Map<string, PrometheusClient>();
  // The URLs read since the last pass began: a client no pass asked for since is dropped (the URLs
  // are custom resources', and each one a user ever wrote would otherwise stay).
  let used = new Set<string>();
  const clientFor = (url: string) => {
    used.add(url);
    let c = clients.get(url);
    if (!c) {
      c = prometheus(url);
      clients.set(url, c);
    }
    return c;
  };

  /**
   * One read of a Neuron's Prometheus. A server that could not be reached (no HTTP answer in time),
   * or that answered it cannot serve now (a 5xx or 429), goes into `down` by its origin, for the rest
   * of the pass: the URLs are custom resources', and many paths on one server that does not serve
   * would each cost a read's time, up to its whole timeout, while the pass's reads share one pool
   * with every other Neuron's.
   */
  const readOnce = async (
    s: PrometheusSource,
    down: Map<string, string>,
  ): Promise<PrometheusRead | undefined> => {
    if (!s.url) return undefined;
    try {
      return { collected: await collect(clientFor(s.url), s.series, s.window, s.bounds) };
    } catch (err) {
      const error = errorMessage(err);
      if (err instanceof OperatorError && cannotServe(err.status)) down.set(originOf(s.url), error);
      return { error };
    }
  };

  // One read of a Prometheus URL per pass that could not reach it: the other Neurons on it are told
  // the same at once.
  return () => {
    for (const url of clients.keys()) if (!used.has(url)) clients.delete(url);
    used = new Set();
    const reads = new Map<string, Promise<PrometheusRead | undefined>>();
    const down = new Map<string, string>();
    return (s) => {
      const key = readKey(s);
      let r = reads.get(key);
      if (!r) {
        const known = s.url ? down.get(originOf(s.url)) : undefined;
        r = known !== undefined ? Promise.resolve({ error: known }) : readOnce(s, down);
        reads.set(key, r);
      }
      return r;
    };
  };
}

/** What one read of a pass is known by: its URL, series, window and pod bounds. */
export const readKey = (s: PrometheusSource): string => JSON.stringify([s.url, s.series, s.window, s.bounds]);

/** No answer, or one that says the server cannot serve now: the same would meet its other paths. */
const cannotServe = (status: number | undefined): boolean =>
  status === undefined || status === 429 || status >= 500;

/** A URL's scheme, host and port (the URL itself when it does not parse: it is then its own server). */
export function originOf(url: string): string {
  try {
    return new URL(url).origin;
  } catch {
    return url;
  }
}
