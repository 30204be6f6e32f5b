/**
 * The length of a string in Unicode code points, as the apiserver counts it for OpenAPI `minLength` and
 * `maxLength` and for CEL's `size()` on a string (Go's `utf8.RuneCountInString`). `String.length`
 * counts UTF-16 code units instead, so a character outside the Basic Multilingual Plane (most emoji,
 * for example) would count twice. A lone surrogate counts once, as the U+FFFD it becomes on the way to
 * the apiserver. Pure.
 */
export function runeLength(s: string): number {
  let n = 0;
  for (const _ of s) n++;
  return n;
}
