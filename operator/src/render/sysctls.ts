// The safe sysctl set is part of the Hal9 API package (the CRDs' CEL rule lists the same names).
export { isSafeSysctl, safeSysctls } from '@hal9/api';
