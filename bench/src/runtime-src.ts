import { fileURLToPath, pathToFileURL } from 'node:url';

// Which runtime the bench measures: this checkout's runtime/src, or another checkout's when
// HAL9_BENCH_RUNTIME_SRC names one (to compare two trees with the same bench). The bench's one
// environment switch, read here only.

export const RUNTIME_SRC =
  process.env.HAL9_BENCH_RUNTIME_SRC ?? fileURLToPath(new URL('../../runtime/src', import.meta.url));

export const RUNTIME_MAIN = `${RUNTIME_SRC}/main.ts`;

/** Imports a runtime module (path relative to runtime/src) from the measured tree. */
export const importRuntime = <T>(path: string): Promise<T> =>
  import(pathToFileURL(`${RUNTIME_SRC}/${path}`).href) as Promise<T>;
