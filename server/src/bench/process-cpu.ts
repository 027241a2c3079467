/** CPU time another process has used, from Linux's /proc/<pid>/stat (all its threads, workers included). */
import { readFile } from 'node:fs/promises';

/** Clock ticks per second of /proc times: USER_HZ, 100 on every mainstream Linux build. */
const USER_HZ = 100;

/** utime + stime of a /proc/<pid>/stat line, in seconds. The command name may hold spaces: fields follow its ')'. */
export function parseProcStatCpuSeconds(text: string): number {
  const fields = text
    .slice(text.lastIndexOf(')') + 2)
    .trim()
    .split(/\s+/);
  // After the name: state is field 3 of the line, so utime (field 14) and stime (15) sit at 11 and 12 here.
  const utime = Number(fields[11]);
  const stime = Number(fields[12]);
  if (!Number.isFinite(utime) || !Number.isFinite(stime))
    throw new Error(`not a /proc/<pid>/stat line: ${text.slice(0, 80)}`);
  return (utime + stime) / USER_HZ;
}

export async function readProcessCpuSeconds(pid: number): Promise<number> {
  return parseProcStatCpuSeconds(await readFile(`/proc/${pid}/stat`, 'utf8'));
}
