/**
 * A pod's container as the kubelet starts it, for tests that run what a manifest says: its environment (values,
 * ConfigMap and Secret keys), its args with Kubernetes' $(VAR) expansion, and its Secret volumes written to a
 * folder (items, modes, the pod's fsGroup) so a real process can read the files at the paths the args name.
 */
import { chmod, chown, mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';

type Doc = any;

/** Kubernetes' expansion of `$(NAME)` in args: from the container's env; `$$` is a literal `$`; unknown names stay. */
export function expandArgs(args: readonly string[], env: Record<string, string>): string[] {
  return args.map((arg) =>
    arg.replace(/\$\$|\$\(([A-Za-z_][A-Za-z0-9_.-]*)\)/g, (match, name?: string) =>
      name === undefined ? '$' : (env[name] ?? match),
    ),
  );
}

/**
 * The container's env: plain values, configMapKeyRef from `configMaps` (manifests), secretKeyRef from `secrets`
 * (name -> key -> value; an optional key that is missing is left out, as the kubelet does).
 */
export function containerEnv(
  container: Doc,
  configMaps: Doc[],
  secrets: Record<string, Record<string, string>>,
): Record<string, string> {
  const env: Record<string, string> = {};
  for (const entry of container.env ?? []) {
    const from = entry.valueFrom;
    if (!from) {
      env[entry.name] = expandArgs([String(entry.value ?? '')], env)[0];
    } else if (from.configMapKeyRef) {
      const ref = from.configMapKeyRef;
      const value = configMaps.find((c) => c.metadata.name === ref.name)?.data?.[ref.key];
      if (value !== undefined) env[entry.name] = value;
      else if (!ref.optional) throw new Error(`${entry.name}: ConfigMap ${ref.name} has no key ${ref.key}`);
    } else if (from.secretKeyRef) {
      const ref = from.secretKeyRef;
      const value = secrets[ref.name]?.[ref.key];
      if (value !== undefined) env[entry.name] = value;
      else if (!ref.optional) throw new Error(`${entry.name}: Secret ${ref.name} has no key ${ref.key}`);
    } else if (from.fieldRef) {
      // Set per pod by the kubelet; the tests that need one give it as a plain value.
    } else {
      throw new Error(`${entry.name}: unsupported valueFrom ${Object.keys(from).join(', ')}`);
    }
  }
  return env;
}

/** The volume behind `containerPath` in the container, and for a Secret or ConfigMap the key the file comes from. */
export function fileSource(
  pod: Doc,
  container: Doc,
  containerPath: string,
): { mountPath: string; volume: Doc; key?: string } {
  const mount = (container.volumeMounts ?? [])
    .filter((m: Doc) => containerPath === m.mountPath || containerPath.startsWith(`${m.mountPath}/`))
    .sort((a: Doc, b: Doc) => b.mountPath.length - a.mountPath.length)[0];
  if (!mount) throw new Error(`${containerPath} is on no volume of container ${container.name}`);
  const volume = pod.volumes.find((v: Doc) => v.name === mount.name);
  const projected = volume.secret ?? volume.configMap;
  if (!projected) return { mountPath: mount.mountPath, volume };
  const inside = path.posix.relative(mount.mountPath, containerPath);
  const key = projected.items ? projected.items.find((i: Doc) => i.path === inside)?.key : inside;
  if (key === undefined) throw new Error(`${containerPath}: no item of volume ${volume.name} is written there`);
  return { mountPath: mount.mountPath, volume, key };
}

/**
 * Writes every Secret volume the container mounts under `root` + its mountPath, as the kubelet does: the listed
 * items (or every key), each with its mode, owned by root and the pod's fsGroup (when this runs as root).
 * Returns container mount path -> local folder.
 */
export async function materialiseSecretVolumes(
  pod: Doc,
  container: Doc,
  secrets: Record<string, Record<string, string>>,
  root: string,
): Promise<Map<string, string>> {
  const mounted = new Map<string, string>();
  const asRoot = process.getuid?.() === 0;
  const fsGroup: number | undefined = pod.securityContext?.fsGroup;
  for (const mount of container.volumeMounts ?? []) {
    const volume = pod.volumes.find((v: Doc) => v.name === mount.name);
    if (!volume?.secret) continue;
    const data = secrets[volume.secret.secretName];
    if (!data) {
      if (volume.secret.optional) continue;
      throw new Error(`the pod mounts Secret ${volume.secret.secretName}, which the test did not give`);
    }
    const dir = path.join(root, mount.mountPath);
    await mkdir(dir, { recursive: true });
    const items: Array<{ key: string; path: string; mode?: number }> =
      volume.secret.items ?? Object.keys(data).map((key) => ({ key, path: key }));
    for (const item of items) {
      if (data[item.key] === undefined) throw new Error(`Secret ${volume.secret.secretName} has no key ${item.key}`);
      const file = path.join(dir, item.path);
      await writeFile(file, data[item.key]);
      await chmod(file, item.mode ?? volume.secret.defaultMode ?? 0o644);
      if (asRoot && fsGroup !== undefined) await chown(file, 0, fsGroup);
    }
    mounted.set(mount.mountPath, dir);
  }
  return mounted;
}

/** A container path in local terms: the longest matching prefix of `mounts` (container path -> local folder). */
export function localPath(containerPath: string, mounts: Map<string, string>): string | undefined {
  const prefix = [...mounts.keys()]
    .filter((m) => containerPath === m || containerPath.startsWith(`${m}/`))
    .sort((a, b) => b.length - a.length)[0];
  return prefix === undefined ? undefined : path.join(mounts.get(prefix)!, path.posix.relative(prefix, containerPath));
}
