// Preloaded into the benchmarked operator with `--import`: over the IPC channel the bench opened,
// it answers "memory" with process.memoryUsage() after a full GC (when --expose-gc is on) and
// "snapshot" by writing a heap snapshot, so the bench can say where the memory goes.
import { writeHeapSnapshot } from 'node:v8';

process.channel?.unref();
process.on('message', (message: unknown) => {
  if (message === 'memory') {
    const gc = (globalThis as { gc?: () => void }).gc;
    const beforeGc = process.memoryUsage();
    gc?.();
    process.send?.({ memory: { beforeGc, afterGc: process.memoryUsage() } });
  } else if (typeof message === 'object' && message !== null && 'snapshot' in message) {
    const path = writeHeapSnapshot(String((message as { snapshot: unknown }).snapshot));
    process.send?.({ snapshot: path });
  }
});
