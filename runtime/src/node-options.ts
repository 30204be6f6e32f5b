// V8 flags the runtime ships with: the image's NODE_OPTIONS, the operator's Deployment, `npm start`
// and the benchmarks all use this list (node-options.test.ts checks the files that cannot import it).
//
// A bounded young generation. Node 24 sizes the semi-space from the machine (up to 32 MiB), and each
// scavenge then promoted megabytes of signals that were merely in flight (7–13 ms pauses) while the
// engine still leaked requests into the old generation. With that leak fixed (pipeline/live-list.ts)
// and a request's allocations cut by a third, 16 MiB is measured best (bench/HISTORY.md,
// 2026-12-04 22:31 on, 4 MiB and 16 MiB alternating): the HTTP ramp's highest rate with p99 ≤
// 10 ms rose from 4,000–6,000/s to 5,000–10,000/s (median 8,000/s in nine runs; fewer scavenges),
// p99 at 1,000/s stayed 1.2–2.9 ms, the in-process p99s stayed within their targets (batch of 10
// 1.5–2.0 ms against 1.1–1.2), for about 20 MB more peak RSS. The operator lowers it for small
// memory limits (operator/src/render/deployment.ts).
export const RUNTIME_V8_FLAGS: readonly string[] = ['--max-semi-space-size=16'];
