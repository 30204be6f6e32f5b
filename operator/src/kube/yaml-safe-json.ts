// The apiserver reads a server-side apply body as YAML (JSON is YAML), and its YAML parser refuses
// DEL, the C1 controls and U+FFFE/U+FFFF ("control characters are not allowed") and folds NEL, LS and
// PS as line breaks. A JSON string may hold any of them raw (JSON.stringify escapes only the C0
// controls), so a system prompt with one made its ConfigMap unappliable, or changed it silently.
// Written as \uXXXX escapes, which both parsers read back as the same character.

const UNSAFE = /[\u007f-\u009f\u2028\u2029\ufffe\uffff]/g;

/** `json` (JSON text) with every character a YAML parser refuses or folds written as an escape. */
export function yamlSafeJson(json: string): string {
  UNSAFE.lastIndex = 0;
  if (!UNSAFE.test(json)) return json;
  return json.replace(UNSAFE, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
}
