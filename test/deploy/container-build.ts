/**
 * deploy/Containerfile carried out without a container engine: its build stage's COPY lines copy from the build
 * context (the repository, less what .containerignore excludes) into a folder that stands for the stage's WORKDIR,
 * its RUN lines run there, and the final stage's USER, ENV, WORKDIR, ENTRYPOINT, CMD and HEALTHCHECK are read out
 * for the test to start the server as the image would. The one step done differently is `npm ci`, which needs the
 * registry: `npm ci --dry-run --offline` checks the lockfile and the workspace manifests copied so far and lists
 * what it would install, and the checkout's node_modules (the result of `npm ci` on the same lockfile) stands in
 * for the install. Every later RUN line runs as written, offline.
 */
import { execFile } from 'node:child_process';
import { cp, mkdir, readFile, readdir, stat, rm } from 'node:fs/promises';
import path from 'node:path';
import { promisify } from 'node:util';
import { DockerfileParser, type Instruction } from 'dockerfile-ast';
import { createRequire } from 'node:module';
import type { Ignore } from '@balena/dockerignore';

// A CommonJS module whose types declare an ES default export: required, so both the types and Node agree.
const ignore = createRequire(import.meta.url)('@balena/dockerignore') as () => Ignore;

const run = promisify(execFile);

export interface RuntimeSpec {
  /** The final stage's USER, as uid:gid numbers. */
  user: { uid: number; gid: number };
  workdir: string;
  env: Record<string, string>;
  entrypoint: string[];
  cmd: string[];
  healthcheck: string[];
  exposed: number[];
}

export interface BuiltContext {
  /** The folder standing for the build stage's WORKDIR, which the final stage copies whole. */
  appDir: string;
  runtime: RuntimeSpec;
  /** What `npm ci --dry-run` said it would add, one `add name version` line each. */
  npmCiPlan: string[];
  /** Each step as carried out, for failure messages. */
  steps: string[];
}

interface Stage {
  name?: string;
  instructions: Instruction[];
}

function stagesOf(text: string): Stage[] {
  const stages: Stage[] = [];
  for (const instruction of DockerfileParser.parse(text).getInstructions()) {
    const keyword = instruction.getKeyword();
    if (keyword === 'FROM') {
      const args = instruction.getArguments().map((a) => a.getValue());
      stages.push({ name: args[1]?.toUpperCase() === 'AS' ? args[2] : undefined, instructions: [] });
    } else if (stages.length > 0) {
      stages.at(-1)!.instructions.push(instruction);
    }
  }
  return stages;
}

function flagsOf(instruction: Instruction): Map<string, string | null> {
  const flags =
    (
      instruction as unknown as { getFlags?: () => Array<{ getName(): string; getValue(): string | null }> }
    ).getFlags?.() ?? [];
  return new Map(flags.map((f) => [f.getName(), f.getValue()]));
}

function jsonArgs(instruction: Instruction): string[] {
  const strings =
    (instruction as unknown as { getJSONStrings?: () => Array<{ getJSONValue(): string }> }).getJSONStrings?.() ?? [];
  if (strings.length === 0)
    throw new Error(`${instruction.getKeyword()} is not in JSON (exec) form: ${instruction.getArgumentsContent()}`);
  return strings.map((s) => s.getJSONValue());
}

/** The build context's ignore file: .containerignore (buildah, podman), else .dockerignore. */
async function contextFilter(contextDir: string): Promise<(relative: string) => boolean> {
  for (const name of ['.containerignore', '.dockerignore']) {
    const text = await readFile(path.join(contextDir, name), 'utf8').catch(() => undefined);
    if (text !== undefined) {
      const rules = ignore().add(text.split(/\r?\n/));
      return (relative) => !rules.ignores(relative);
    }
  }
  return () => true;
}

/** COPY src... dest as an engine does it: a folder's contents into dest, a file into dest/ or as dest. */
async function copyInto(
  contextDir: string,
  sources: string[],
  dest: string,
  keep: (relative: string) => boolean,
): Promise<void> {
  const toFolder = dest.endsWith('/') || sources.length > 1;
  for (const source of sources) {
    if (/[*?[]/.test(source)) throw new Error(`COPY ${source}: wildcards are not handled by this test`);
    const relative = path.posix.normalize(source).replace(/^\/+|\/+$/g, '');
    if (relative.startsWith('..')) throw new Error(`COPY ${source} is outside the build context`);
    const from = path.join(contextDir, relative);
    if (!keep(relative)) throw new Error(`COPY ${source}: excluded by the ignore file`);
    const info = await stat(from).catch(() => {
      throw new Error(`COPY ${source}: no such file or folder in the build context`);
    });
    const filter = (file: string) => {
      const inside = path.relative(contextDir, file).split(path.sep).join('/');
      return inside === '' || keep(inside);
    };
    const how = { recursive: true, filter, preserveTimestamps: true, verbatimSymlinks: true };
    if (info.isDirectory()) await cp(from, dest, how);
    else await cp(from, toFolder ? path.join(dest, path.basename(relative)) : dest, how);
  }
}

/**
 * The checkout's node_modules as `npm ci` would leave it, in 2 s instead of 40: hard links (cp -al) where the
 * file system allows, which the later steps only unlink (npm prune removes, esbuild writes plugin/dist). The one
 * file npm rewrites in place, its hidden lockfile, gets its own copy so the checkout's is never written through a
 * link. cp keeps the workspace links relative (node_modules/@glomseg/api -> ../../api), as npm ci makes them.
 */
async function copyNodeModules(from: string, to: string): Promise<void> {
  try {
    await run('cp', ['-al', from, to]);
  } catch {
    await rm(to, { recursive: true, force: true });
    await run('cp', ['-a', from, to]);
    return;
  }
  const hidden = path.join(to, '.package-lock.json');
  await rm(hidden, { force: true });
  await cp(path.join(from, '.package-lock.json'), hidden);
}

/**
 * Lays out the build stage of `containerfile` in `outDir` (its WORKDIR), from `contextDir`. `checkoutNodeModules`:
 * the folder that stands in for what `npm ci` installs.
 */
export async function buildStageInto(options: {
  containerfile: string;
  contextDir: string;
  outDir: string;
  checkoutNodeModules: string;
  /** --build-arg values: over the ARG defaults and the ENV lines made from them. */
  buildArgs?: Record<string, string>;
}): Promise<BuiltContext> {
  const text = await readFile(options.containerfile, 'utf8');
  const stages = stagesOf(text);
  if (stages.length < 2) throw new Error('expected a build stage and a final stage');
  const final = stages.at(-1)!;
  const copied = final.instructions.filter((i) => i.getKeyword() === 'COPY' && flagsOf(i).has('from'));
  const buildName = copied.length === 1 ? flagsOf(copied[0]).get('from') : undefined;
  const build = stages.find((s) => s.name === buildName);
  if (!build)
    throw new Error(`the final stage must COPY --from one build stage (found ${copied.length} such COPY lines)`);
  // The final stage takes the build stage's WORKDIR whole: COPY --from=build <workdir> <workdir>.
  const [copiedFrom, copiedTo] = copied[0].getArguments().map((a) => a.getValue());

  const keep = await contextFilter(options.contextDir);
  const env: Record<string, string> = {};
  const args: Record<string, string> = {};
  let workdir = '/';
  const steps: string[] = [];
  let npmCiPlan: string[] = [];
  const local = (containerPath: string) => {
    const rel = path.posix.relative(workdir, path.posix.resolve(workdir, containerPath));
    if (rel.startsWith('..')) throw new Error(`${containerPath} is outside the WORKDIR ${workdir}`);
    return path.join(options.outDir, rel);
  };
  for (const instruction of build.instructions) {
    const keyword = instruction.getKeyword();
    const values = instruction.getExpandedArguments().map((a) => a.getValue());
    if (keyword === 'ARG') {
      for (const value of values) {
        const [name, ...rest] = value.split('=');
        if (rest.length > 0) args[name] = rest.join('=');
      }
    } else if (keyword === 'ENV') {
      for (const value of values) {
        const [name, ...rest] = value.split('=');
        env[name] = rest.join('=');
      }
    } else if (keyword === 'WORKDIR') {
      if (workdir !== '/' && values[0] !== workdir) throw new Error('one WORKDIR in the build stage');
      workdir = values[0];
      await mkdir(options.outDir, { recursive: true });
    } else if (keyword === 'COPY') {
      if (flagsOf(instruction).has('from')) throw new Error('the build stage copies only from the context');
      const dest = values.at(-1)!;
      const target = local(dest) + (dest.endsWith('/') ? path.sep : '');
      await mkdir(dest.endsWith('/') ? target : path.dirname(target), { recursive: true });
      await copyInto(options.contextDir, values.slice(0, -1), target, keep);
      steps.push(`COPY ${values.join(' ')}`);
    } else if (keyword === 'RUN') {
      const script = instruction.getArgumentsContent()!.replace(/\\\r?\n/g, ' ');
      const runEnv = {
        ...process.env,
        ...args,
        ...env,
        ...options.buildArgs,
        npm_config_offline: 'true',
        npm_config_update_notifier: 'false',
      };
      const steps0 = script.split('&&').map((s) => s.trim());
      const ci = steps0.findIndex((s) => /^npm ci(\s|$)/.test(s));
      if (ci >= 0) {
        if (steps0.length !== 1) throw new Error(`npm ci must be a RUN line of its own: ${script}`);
        // The lockfile and every workspace manifest must be there, and agree, before npm ci.
        const { stdout } = await run('sh', ['-c', `${steps0[0]} --dry-run`], {
          cwd: options.outDir,
          env: runEnv,
          maxBuffer: 16 << 20,
        });
        npmCiPlan = stdout.split('\n').filter((l) => l.startsWith('add '));
        await copyNodeModules(options.checkoutNodeModules, path.join(options.outDir, 'node_modules'));
        steps.push(`RUN ${script} (dry run, then the checkout's node_modules)`);
      } else {
        try {
          await run('sh', ['-c', script], { cwd: options.outDir, env: runEnv, maxBuffer: 64 << 20 });
        } catch (error) {
          const e = error as { stdout?: string; stderr?: string; message: string };
          throw new Error(`RUN ${script} failed: ${e.message}\n${e.stdout ?? ''}\n${e.stderr ?? ''}`);
        }
        steps.push(`RUN ${script}`);
      }
    } else if (keyword !== 'LABEL') {
      throw new Error(`the build stage has ${keyword}, which this test does not carry out`);
    }
  }
  if (copiedFrom !== workdir || copiedTo !== workdir)
    throw new Error(`the final stage copies ${copiedFrom} to ${copiedTo}, not the build WORKDIR ${workdir}`);
  return { appDir: options.outDir, runtime: runtimeOf(final), npmCiPlan, steps };
}

/** The final stage's user, environment, folder and commands: how the image starts. */
export async function imageRuntime(containerfile: string): Promise<RuntimeSpec> {
  return runtimeOf(stagesOf(await readFile(containerfile, 'utf8')).at(-1)!);
}

function runtimeOf(final: Stage): RuntimeSpec {
  const spec: Partial<RuntimeSpec> & { env: Record<string, string>; exposed: number[] } = { env: {}, exposed: [] };
  for (const instruction of final.instructions) {
    const keyword = instruction.getKeyword();
    const values = instruction.getExpandedArguments().map((a) => a.getValue());
    if (keyword === 'ENV') {
      for (const value of values) {
        const [name, ...rest] = value.split('=');
        spec.env[name] = rest.join('=');
      }
    } else if (keyword === 'WORKDIR') spec.workdir = values[0];
    else if (keyword === 'USER') {
      const [uid, gid] = values[0].split(':').map(Number);
      if (!Number.isInteger(uid) || !Number.isInteger(gid))
        throw new Error(`USER ${values[0]}: numeric uid:gid expected`);
      spec.user = { uid, gid };
    } else if (keyword === 'EXPOSE') spec.exposed.push(...values.map((v) => Number(v.split('/')[0])));
    else if (keyword === 'ENTRYPOINT') spec.entrypoint = jsonArgs(instruction);
    else if (keyword === 'CMD') spec.cmd = jsonArgs(instruction);
    else if (keyword === 'HEALTHCHECK') {
      const content = instruction.getArgumentsContent()!.replace(/\\\r?\n/g, ' ');
      const json = /\bCMD\s+(\[.*\])\s*$/s.exec(content);
      if (!json) throw new Error(`HEALTHCHECK without an exec-form CMD: ${content}`);
      spec.healthcheck = JSON.parse(json[1]);
    }
  }
  for (const key of ['user', 'workdir', 'entrypoint', 'cmd', 'healthcheck'] as const)
    if (spec[key] === undefined) throw new Error(`the final stage has no ${key.toUpperCase()}`);
  return spec as RuntimeSpec;
}

/** Removes a laid-out context (node_modules alone is about 400 MB). */
export async function removeContext(dir: string): Promise<void> {
  await rm(dir, { recursive: true, force: true });
}

/** Every file under `dir`, relative, '/'-separated (symbolic links listed, not followed). */
export async function listFiles(dir: string): Promise<string[]> {
  const entries = await readdir(dir, { withFileTypes: true, recursive: true });
  return entries
    .filter((e) => !e.isDirectory())
    .map((e) => path.relative(dir, path.join(e.parentPath, e.name)).split(path.sep).join('/'));
}
