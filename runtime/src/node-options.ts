// V8 flags the runtime ships with: the image's NODE_OPTIONS, the operator's Deployment, `npm start`
// and the benchmarks all use this list (node-options.test.ts checks the files that cannot import it).
//
// A bounded young generation. Node 24 sizes the semi-space from the machine (up to 32 MiB), and each
// scavenge then promotes megabytes of signals that were merely in flight: 7–13 ms pauses, the batch
// API's p99 of 5–7 ms in a runtime process under a closed loop of batches. 4 MiB scavenges more often,
// each one short (p99 2.2–2.5 ms, the same CPU per request); bench/README.md has the runs. Most of
// what those scavenges promoted was a leak, since fixed (pipeline/live-list.ts): whether the flag
// still pays is to be measured again (bench/README.md) before it changes.
export const RUNTIME_V8_FLAGS: readonly string[] = ['--max-semi-space-size=4'];
