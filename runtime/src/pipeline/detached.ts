// Strings cut from a model's answer that outlive it. V8 makes a substring of 13 characters or more
// a view into its parent string, so a 63-character excerpt of an 8 MiB answer (a target, a result)
// keeps all 8 MiB alive for as long as the trace or the request store holds it, and their size
// estimates see 63 characters. What is kept from an answer is copied out of it instead.

/** A copy of `s` that refers to no other string (a round trip through a buffer). */
export function detached(s: string): string {
  return s === '' ? s : Buffer.from(s, 'utf16le').toString('utf16le');
}

/**
 * `s` cut to its first `max` characters: `s` itself when it fits, else a copy of its own (a slice of
 * a megabyte string would keep all of it). For whole strings (JSON-parsed); a piece of an answer
 * needs `detached` even uncut.
 */
export function cutTo(s: string, max: number): string {
  return s.length > max ? detached(s.slice(0, max)) : s;
}

/** The first `max` characters of `s`, then an ellipsis when there were more: a copy of its own. */
export function excerpt(s: string, max: number): string {
  return detached(s.length > max ? `${s.slice(0, max)}…` : s);
}
