// Grafana-side substitution of dashboard variables, so dashboard queries can be sent to Prometheus as-is.

/** Replaces `$name` and `${name}` (longest names first); unknown variables are left for the caller to detect. */
export function interpolate(expr: string, values: Readonly<Record<string, string>>): string {
  return expr.replace(
    /\$\{(\w+)\}|\$(\w+)/g,
    (whole, braced: string | undefined, bare: string | undefined) => {
      const name = braced ?? bare ?? '';
      return Object.hasOwn(values, name) ? (values[name] as string) : whole;
    },
  );
}
