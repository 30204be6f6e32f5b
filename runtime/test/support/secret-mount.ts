import { mkdirSync, renameSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

// A mounted Secret as the kubelet lays it out: each key is a link through ..data to a versioned
// directory, and an update swaps ..data to a new directory in one rename.

export interface SecretMount {
  /** The path of a key, as a pod reads it. */
  path(key: string): string;
  /** Writes a new version of every key and swaps ..data to it. */
  publish(files: Readonly<Record<string, string | Buffer>>): void;
}

/** Creates the mount at `dir` with a first version of `files`; their names are the keys. */
export function secretMount(dir: string, files: Readonly<Record<string, string | Buffer>>): SecretMount {
  let version = 0;
  const publish = (next: Readonly<Record<string, string | Buffer>>) => {
    const versioned = join(dir, `..v${++version}`);
    mkdirSync(versioned, { recursive: true });
    for (const [key, data] of Object.entries(next)) writeFileSync(join(versioned, key), data);
    symlinkSync(`..v${version}`, join(dir, '..data_tmp'));
    renameSync(join(dir, '..data_tmp'), join(dir, '..data'));
  };
  publish(files);
  for (const key of Object.keys(files)) symlinkSync(`..data/${key}`, join(dir, key));
  return { path: (key) => join(dir, key), publish };
}
