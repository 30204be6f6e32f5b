// `.dockerignore` as `docker build` reads it: patterns relative to the build context, `*` and `?`
// within one path segment, `**` across segments, `!` re-includes, the last matching line wins, and
// a pattern that matches a directory excludes everything under it.

export type Ignore = (relativePath: string) => boolean;

const escapeChar = (c: string): string => (/[.+^${}()|[\]\\]/.test(c) ? `\\${c}` : c);

function toRegExp(pattern: string): RegExp {
  let re = '';
  for (let i = 0; i < pattern.length; i++) {
    const c = pattern[i]!;
    if (c === '*' && pattern[i + 1] === '*') {
      if (pattern[i + 2] === '/') {
        re += '(?:.*/)?';
        i += 2;
      } else {
        re += '.*';
        i += 1;
      }
    } else if (c === '*') re += '[^/]*';
    else if (c === '?') re += '[^/]';
    else re += escapeChar(c);
  }
  return new RegExp(`^${re}$`);
}

export function parseDockerignore(text: string): Ignore {
  const rules = text
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l !== '' && !l.startsWith('#'))
    .map((l) => {
      const include = l.startsWith('!');
      const p = (include ? l.slice(1) : l).trim().replace(/^\/+/, '').replace(/\/+$/, '');
      return { include, re: toRegExp(p) };
    });
  return (relativePath) => {
    const parts = relativePath.split('/').filter((s) => s !== '' && s !== '.');
    const paths = parts.map((_, i) => parts.slice(0, i + 1).join('/'));
    let ignored = false;
    // A rule that matches the path or a directory above it decides, until a later rule does.
    for (const r of rules) if (paths.some((p) => r.re.test(p))) ignored = !r.include;
    return ignored;
  };
}
