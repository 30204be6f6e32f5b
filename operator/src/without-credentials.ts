/**
 * Text with the credentials of every URL in it masked (`scheme://user:pass@host` → `scheme://…@host`):
 * messages go to conditions, Events and logs, and a URL the operator was given or fetched may carry them.
 */
export const withoutCredentials = (text: string): string =>
  text.replace(/([a-z][a-z0-9+.-]*:\/\/)[^/\s]*@/gi, '$1…@');
