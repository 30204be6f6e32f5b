import { readdir } from 'node:fs/promises';
import { join, relative } from 'node:path';

// Reading a built image: the files it holds, and what its Node compiled without the image's cache.

/** Every file under `dir`, relative to it. */
export async function filesIn(dir: string): Promise<string[]> {
  const out: string[] = [];
  for (const e of await readdir(dir, { withFileTypes: true, recursive: true }))
    if (e.isFile()) out.push(relative(dir, join(e.parentPath, e.name)));
  return out;
}

/** Modules a process compiled itself (absent from its compile cache), from its
 * NODE_DEBUG_NATIVE=COMPILE_CACHE output. */
export const compiledWithoutCache = (log: string): string[] =>
  [...log.matchAll(/V8 code cache for \w+ (\S+) was not initialized|no transpile cache for \w+ (\S+)/g)].map(
    (m) => m[1] ?? m[2]!,
  );
