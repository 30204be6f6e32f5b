// V8 flags the runtime ships with: the image's NODE_OPTIONS, the operator's Deployment, `npm start`
// and the benchmarks all use this list (node-options.test.ts checks the files that cannot import it).
//
// A bounded young generation. Node 24 sizes the semi-space from the machine (up to 32 MiB), and each
// scavenge then promotes megabytes of signals that were merely in flight: 7–13 ms pauses, the batch
// API's p99 of 5–7 ms in a runtime process under a closed loop of batches. 4 MiB scavenges more often,
// each one short (p99 2.2–2.5 ms, the same CPU per request). Most of what those scavenges promoted
// was a leak, since fixed (pipeline/live-list.ts), and measured again after it (bench/HISTORY.md,
// 2026-12-02 14:13–14:45) the flag is a trade: without it (or with a larger or fixed semi-space) the
// HTTP ramp holds p99 ≤ 10 ms one step higher (3,000/s against 2,000/s) and uses 5–10 % less CPU per
// request there, but a fresh runtime's p99 at 1,000/s, the guide's latency target, rises from 4.7 ms
// to 5.2–6.2 ms, and the peak RSS by 20–60 MB. (The engine embedded in a process of its own does
// better without it: 10 parallel signals p99 0.7 against 2.0 ms.) The runtime is served over HTTP
// and the 1,000/s target is the guide's, so the flag stays.
export const RUNTIME_V8_FLAGS: readonly string[] = ['--max-semi-space-size=4'];
