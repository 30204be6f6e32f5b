import { parseDocument } from 'yaml';
import { ConfigError } from '../errors.ts';

// YAML text from a file the runtime reads (its config, the client keys file). The yaml library's
// parse() reports what it only warns about (an unknown tag such as `!!set` or `!secret`, an unknown
// directive) through process.emitWarning, outside the log, and goes on with a value the tag did not
// mean. Our files use plain YAML only: a warning is refused like a syntax error, naming the file's
// field and where (never the text around it), and nothing is written to stderr.

/** The document's value, or a ConfigError on `field` for the first error or warning. */
export function parseYamlText(text: string, field: string): unknown {
  try {
    const doc = parseDocument(text);
    const problem = doc.errors[0] ?? doc.warnings[0];
    if (problem) throw problem;
    return doc.toJS();
  } catch (e) {
    // toJS throws too: an alias cycle or more aliases than the library allows (a YAML bomb).
    // Only the first line: the library quotes the lines around the fault after it, and in a file
    // of tokens or keys those lines are secrets (line and column are on the first line).
    const first = String((e as Error).message)
      .split('\n')[0]!
      .replace(/:$/, '');
    throw new ConfigError([{ field, message: `is not valid YAML: ${first}` }]);
  }
}
