// Preloaded into the benchmarked operator with `--import`: over the IPC channel the bench opened,
// it answers "memory" with process.memoryUsage() after a full GC and "snapshot" by writing a heap
// snapshot, so the bench can say where the memory goes.
import { setFlagsFromString, writeHeapSnapshot } from 'node:v8';
import { runInNewContext } from 'node:vm';

// The GC function is taken when first asked for, not from --expose-gc on the command line: V8 flags
// there change the key of the image's compile cache, and the operator would compile its bundle itself.
let gc: (() => void) | undefined;
const fullGc = (): void => {
  if (!gc) {
    setFlagsFromString('--expose-gc');
    gc = runInNewContext('gc') as () => void;
  }
  gc();
};

process.channel?.unref();
process.on('message', (message: unknown) => {
  if (message === 'memory') {
    const beforeGc = process.memoryUsage();
    fullGc();
    process.send?.({ memory: { beforeGc, afterGc: process.memoryUsage() } });
  } else if (typeof message === 'object' && message !== null && 'snapshot' in message) {
    const path = writeHeapSnapshot(String((message as { snapshot: unknown }).snapshot));
    process.send?.({ snapshot: path });
  }
});
