import { Document, isScalar, Scalar, visit } from 'yaml';

// A manifest as YAML that kubectl and Argo CD read back as the object validated. They read YAML with
// go-yaml (v2), whose plain scalars differ from the YAML 1.1 the writer knows: Go's number syntax
// (0o644, 0X1F as an int; 1e1_0 a float, underscores dropped) would turn a string into a number, and a
// line or paragraph separator (U+2028, U+2029) written raw makes the file unreadable. Such strings
// are written double-quoted, with the separators escaped. (Control characters an apply cannot carry
// are refused before: api/src/schema-check.ts.) Otherwise the text is cdk8s's Yaml.stringify's.

/** Go's integers (strconv.ParseInt base 0) and go-yaml's floats, once go-yaml has dropped the underscores. */
const GO_INT = /^[-+]?(0[xX][0-9a-fA-F]+|0[oO][0-7]+|0[bB][01]+|[0-9]+)$/;
const GO_FLOAT = /^[-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?$/;
const SEPARATORS = /[\u2028\u2029]/;

/** Whether go-yaml would not read `s`, written plain, as that string. */
export function needsQuotes(s: string): boolean {
  const plain = s.replaceAll('_', '');
  return GO_INT.test(plain) || GO_FLOAT.test(plain) || SEPARATORS.test(s);
}

export function manifestYaml(manifest: unknown): string {
  const doc = new Document(manifest, { keepUndefined: true, version: '1.1' });
  visit(doc, {
    Scalar(_key, node) {
      if (isScalar(node) && typeof node.value === 'string' && needsQuotes(node.value))
        node.type = Scalar.QUOTE_DOUBLE;
    },
  });
  return doc.toString({ lineWidth: 0 });
}
