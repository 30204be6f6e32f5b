import { chown, mkdir, writeFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import type { CoreV1Api, V1ConfigMap, V1Pod, V1Secret } from '@kubernetes/client-node';
import { type PodProcessPlan, podReferences } from './pod-process-plan.ts';

// The I/O around a pod's plan (pod-process-plan.ts): reading the objects its container refers to, and
// writing its mounted files, as a kubelet would.

/** A read that answers undefined for an object that does not exist (yet). */
export async function readOptional<T>(read: () => Promise<T>): Promise<T | undefined> {
  try {
    return await read();
  } catch (err) {
    if ((err as { code?: number }).code === 404) return undefined;
    throw err;
  }
}

/** The ConfigMaps and Secrets the pod's container mounts or reads (missing ones left out). */
export async function readPodReferences(
  core: CoreV1Api,
  pod: V1Pod,
  containerName?: string,
): Promise<{ configMaps: Map<string, V1ConfigMap>; secrets: Map<string, V1Secret> }> {
  const namespace = pod.metadata?.namespace ?? 'default';
  const refs = podReferences(pod, containerName);
  const configMaps = new Map<string, V1ConfigMap>();
  const secrets = new Map<string, V1Secret>();
  for (const name of refs.configMaps) {
    const cm = await readOptional(() => core.readNamespacedConfigMap({ namespace, name }));
    if (cm) configMaps.set(name, cm);
  }
  for (const name of refs.secrets) {
    const s = await readOptional(() => core.readNamespacedSecret({ namespace, name }));
    if (s) secrets.set(name, s);
  }
  return { configMaps, secrets };
}

/** Writes the plan's mount directories and files (mode 0600), owned by `owner` when given (the
 * container's user, which must read them). */
export async function writePlannedFiles(
  plan: Pick<PodProcessPlan, 'dirs' | 'files'>,
  owner?: { readonly uid: number; readonly gid: number },
): Promise<void> {
  for (const d of plan.dirs) {
    await mkdir(d, { recursive: true });
    // The container's user owns its mounts' directories (a kubelet's emptyDir is writable by it).
    if (owner) await chown(d, owner.uid, owner.gid);
  }
  for (const f of plan.files) {
    await mkdir(dirname(f.path), { recursive: true });
    await writeFile(f.path, f.data, { mode: 0o600 });
    if (owner) await chown(f.path, owner.uid, owner.gid);
  }
}
