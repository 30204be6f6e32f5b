// The Hal9 API package holds the types generated from crds/; this path stays for existing imports.
export * from '@hal9/api';
