import { type Document, isMap, isScalar, LineCounter, parseDocument, visit, YAMLError } from 'yaml';
import { ConfigError } from '../errors.ts';

// YAML text from a file the runtime reads (its config, the client keys file). The yaml library's
// parse() reports what it only warns about (an unknown tag such as `!!set` or `!secret`, an unknown
// directive) through process.emitWarning, outside the log, and goes on with a value the tag did not
// mean. Our files use plain YAML only: a warning is refused like a syntax error, naming the file's
// field and where, in our own words. Never the library's message: it quotes the text at fault, and in
// a file of tokens or keys that text is a secret (a key may start with `!` or `*`, which YAML reads
// as a tag or an alias, and the library's message then names the rest of the key).

/** The document's value, or a ConfigError on `field` for the first error or warning. */
export function parseYamlText(text: string, field: string): unknown {
  // A UTF-16 file read as UTF-8 holds a NUL in every other byte; YAML takes none.
  if (text.includes('\0'))
    throw new ConfigError([
      { field, message: 'is not UTF-8 text: it holds NUL bytes (a UTF-16 file? save it as UTF-8)' },
    ]);
  let problem: unknown;
  try {
    // logLevel error: the library would still write some warnings itself (a collection used as a
    // key, quoted whole) to process warnings, outside the log. Its own duplicate-key check compares
    // each key with every other of its mapping: 60,000 keys (2 MB) took 19 s of the event loop.
    const lineCounter = new LineCounter();
    const doc = parseDocument(text, { logLevel: 'error', uniqueKeys: false, lineCounter });
    problem = doc.errors[0] ?? doc.warnings[0];
    if (!problem) {
      const twice = repeatedKey(doc, lineCounter);
      if (twice !== undefined)
        throw new ConfigError([{ field, message: `is not valid YAML: duplicate key${twice}` }]);
      return doc.toJS();
    }
  } catch (e) {
    if (e instanceof ConfigError) throw e;
    // toJS throws too: an alias with no anchor, an alias cycle, or more aliases than the library
    // allows (a YAML bomb).
    problem = e;
  }
  throw new ConfigError([{ field, message: `is not valid YAML: ${describe(problem)}` }]);
}

/** Where the first key given twice in one mapping is (` at line L, column C`), in one pass. */
function repeatedKey(doc: Document, lines: LineCounter): string | undefined {
  let found: string | undefined;
  visit(doc, {
    Map(_, map) {
      if (!isMap(map)) return;
      const seen = new Set<string>();
      for (const { key } of map.items) {
        // Scalar keys by the property they become: 1 and "1" are one key once read, the later one
        // silently winning. Other keys are the config's to refuse.
        if (!isScalar(key)) continue;
        const name = String(key.value);
        if (seen.has(name)) {
          const at = key.range ? lines.linePos(key.range[0]) : undefined;
          found = at ? ` at line ${at.line}, column ${at.col}` : '';
          return visit.BREAK;
        }
        seen.add(name);
      }
    },
  });
  return found;
}

const QUOTE_HINT = 'quote a value that starts with ! or *';

/** What went wrong and where, in fixed words: never any text of the file. */
function describe(problem: unknown): string {
  if (problem instanceof YAMLError) {
    const at = problem.linePos?.[0];
    const where = at ? ` at line ${at.line}, column ${at.col}` : '';
    switch (problem.code) {
      case 'TAG_RESOLVE_FAILED':
        return `a tag (a value starting with !) this file does not take${where}; ${QUOTE_HINT}`;
      case 'BAD_ALIAS':
        return `an alias (a value starting with *) with no anchor${where}; ${QUOTE_HINT}`;
      case 'BAD_DIRECTIVE':
        return `a directive (a line starting with %) this file does not take${where}`;
      case 'RESOURCE_EXHAUSTION':
        // The library says so for a stack it ran out of too: a file nested hundreds of levels deep.
        return `nested too deeply, or more aliases than a file may expand${where}`;
      default:
        return `${problem.code.toLowerCase().replaceAll('_', ' ')}${where}`;
    }
  }
  // From toJS: a ReferenceError names the alias (the rest of the value after its `*`).
  const message = problem instanceof Error ? problem.message : '';
  if (/^Unresolved alias/.test(message))
    return `an alias (a value starting with *) with no anchor; ${QUOTE_HINT}`;
  if (/alias count/i.test(message)) return 'more aliases than a file may expand (an alias bomb)';
  return 'its aliases cannot be expanded (an alias cycle)';
}
