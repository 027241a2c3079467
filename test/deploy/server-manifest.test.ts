/**
 * deploy/kubernetes/server.yaml run as a pod would run it, behind the shipped Envoy: the Secrets it mounts are
 * made as an operator makes them (a certificate for the headless Service's name, a token list) and written where
 * the kubelet writes them, the env comes from the manifests' ConfigMap, the args are expanded as Kubernetes
 * expands $(VAR), and the image's ENTRYPOINT starts a real server with them (as the pod's user when this runs as
 * root; ports made free ones). Then what Envoy sends (envoy/envoy.yaml: the Host it forwards, TLS with its SNI and
 * trusted CA) must work: the viewer page answers 200, a slide tile 200 with a token and 401 without, a gRPC call
 * works with a token and not without; the cohort Job's own token and CA files get it in too, and the kubelet's
 * plaintext probes find health on the health port.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spawn, type ChildProcess } from 'node:child_process';
import { chmod, copyFile, mkdir, mkdtemp, readFile, rm } from 'node:fs/promises';
import https from 'node:https';
import os from 'node:os';
import path from 'node:path';
import { parse, parseAllDocuments } from 'yaml';
import { Code } from '@connectrpc/connect';
import { HealthCheckResponse_ServingStatus as Status } from '@glomseg/api/gen/health/v1/health_pb.js';
import { connectGlomseg } from '../../server/src/client/grpc-client.js';
import { loadClientAuth } from '../../server/src/client/client-credentials.js';
import { imageRuntime } from './container-build.js';
import { containerEnv, expandArgs, fileSource, localPath, materialiseSecretVolumes } from './pod-render.js';
import { EVAL_REGION, REPO_ROOT } from '../helpers/paths.js';
import { glomsegClient, healthClient, statusOf } from '../helpers/grpc.js';
import { makeTestCa } from '../helpers/test-ca.js';
import { until } from '../helpers/until.js';

const KUBE = path.join(REPO_ROOT, 'deploy', 'kubernetes');
const SLIDE = 'kidney-region-quarter.tif';
const COHORT_TOKEN = 'cohort-token-for-this-test';
const VIEWER_TOKEN = 'viewer-token-for-this-test';

async function docsOf(file: string): Promise<any[]> {
  return parseAllDocuments(await readFile(path.join(KUBE, file), 'utf8')).map((d) => d.toJS());
}

/** The value of `--name=value` or `--name value`. */
function flag(args: readonly string[], name: string): string | undefined {
  const i = args.findIndex((a) => a === `--${name}` || a.startsWith(`--${name}=`));
  if (i < 0) return undefined;
  return args[i].includes('=') ? args[i].slice(args[i].indexOf('=') + 1) : args[i + 1];
}

function get(
  port: number,
  pathname: string,
  options: { host: string; servername: string; ca: Buffer; token?: string },
): Promise<{ status: number; type: string }> {
  return new Promise((resolve, reject) => {
    const request = https.request(
      {
        host: '127.0.0.1',
        port,
        path: pathname,
        servername: options.servername,
        ca: options.ca,
        headers: { host: options.host, ...(options.token ? { authorization: `Bearer ${options.token}` } : {}) },
        agent: false,
      },
      (response) => {
        response.resume();
        response.once('end', () =>
          resolve({ status: response.statusCode!, type: String(response.headers['content-type'] ?? '') }),
        );
      },
    );
    request.once('error', reject);
    request.end();
  });
}

let scratch: string;
let child: ChildProcess | undefined;
const log: string[] = [];

beforeAll(async () => {
  scratch = await mkdtemp(path.join(os.tmpdir(), 'glomseg-pod-'));
  await chmod(scratch, 0o755);
});

afterAll(async () => {
  if (child && child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  if (scratch) await rm(scratch, { recursive: true, force: true });
});

describe('deploy/kubernetes/server.yaml behind deploy/kubernetes/envoy', () => {
  it('answers the Host Envoy forwards, over TLS, with the Secret token; the cohort Job and the probes get in', async () => {
    const server = await docsOf('server.yaml');
    const configMaps = server.filter((d) => d.kind === 'ConfigMap');
    const deployment = server.find((d) => d.kind === 'Deployment' && d.metadata.name === 'glomseg-server');
    const pod = deployment.spec.template.spec;
    const [container] = pod.containers;

    // What Envoy sends upstream: the one domain it serves, port stripped, as Host; TLS with this SNI and CA.
    const envoy = parse(await readFile(path.join(KUBE, 'envoy', 'envoy.yaml'), 'utf8'));
    const hcm = envoy.static_resources.listeners[0].filter_chains[0].filters[0].typed_config;
    expect(hcm.strip_any_host_port).toBe(true);
    const [virtualHost] = hcm.route_config.virtual_hosts;
    expect(virtualHost.domains).toHaveLength(1);
    const publicHost: string = virtualHost.domains[0];
    expect(publicHost).not.toContain('*');
    const httpCluster = envoy.static_resources.clusters.find(
      (c: any) => c.name === virtualHost.routes.find((r: any) => r.match.prefix === '/').route.cluster,
    );
    const upstreamTls = httpCluster.transport_socket.typed_config;
    const serverName: string = upstreamTls.sni;
    expect(upstreamTls.common_tls_context.validation_context.match_typed_subject_alt_names).toEqual([
      { san_type: 'DNS', matcher: { exact: serverName } },
    ]);

    // The Secrets, as docs/deploy.md tells the operator to make them.
    const ca = await makeTestCa([`DNS:${serverName}`]);
    const secrets = {
      'glomseg-tls': {
        'tls.crt': await readFile(ca.serverCert, 'utf8'),
        'tls.key': await readFile(ca.serverKey, 'utf8'),
        'ca.crt': await readFile(ca.caCert, 'utf8'),
      },
      'glomseg-auth': { tokens: `${COHORT_TOKEN}\n${VIEWER_TOKEN}\n` },
    };
    const mounts = await materialiseSecretVolumes(pod, container, secrets, path.join(scratch, 'server'));
    const runtime = await imageRuntime(path.join(REPO_ROOT, 'deploy', 'Containerfile'));
    const slides = path.join(scratch, 'slides');
    await mkdir(slides);
    await copyFile(path.join(EVAL_REGION, SLIDE), path.join(slides, SLIDE));
    // The image is this repository at its WORKDIR; the slides volume is our folder of one slide.
    mounts.set(runtime.workdir, REPO_ROOT);
    mounts.set(fileSource(pod, container, flag(container.args, 'slides')!).mountPath, slides);

    const env = containerEnv(container, configMaps, secrets);
    const args = expandArgs(container.args, env);
    expect(args).toContain(`--allowed-host=${publicHost}`);
    for (const file of ['auth-token-file', 'tls-cert', 'tls-key'])
      expect(fileSource(pod, container, flag(args, file)!).volume.secret, file).toBeDefined();
    const containerPorts = new Set(container.ports.map((p: any) => String(p.containerPort)));
    const local = args.map((arg) => {
      const eq = arg.indexOf('=');
      if (!arg.startsWith('--') || eq < 0) return arg;
      const value = arg.slice(eq + 1);
      if (containerPorts.has(value)) return `${arg.slice(0, eq)}=0`;
      return value.startsWith('/') ? `${arg.slice(0, eq)}=${localPath(value, mounts) ?? value}` : arg;
    });
    const identity =
      process.getuid?.() === 0 ? { uid: pod.securityContext.runAsUser, gid: pod.securityContext.runAsGroup } : {};
    const command = [...runtime.entrypoint, ...local];
    child = spawn(command[0], command.slice(1), {
      cwd: REPO_ROOT,
      env: { PATH: process.env.PATH!, HOME: scratch, ...runtime.env, ...env },
      stdio: ['ignore', 'ignore', 'pipe'],
      ...identity,
    });
    child.stderr!.setEncoding('utf8').on('data', (chunk: string) => log.push(...chunk.split('\n').filter(Boolean)));
    const exited = new Promise<number | null>((resolve) => child!.once('exit', (code) => resolve(code)));
    await until(() => log.some((l) => l.includes('gRPC listening on')) || child!.exitCode !== null, 120_000, 100);
    const said = log.join('\n');
    expect(child.exitCode, said).toBeNull();
    expect(said).not.toMatch(/WARNING: listening on/); // token and TLS: nothing open
    const grpcPort = Number(/gRPC listening on \S+:(\d+) with TLS/.exec(said)![1]);
    const httpPort = Number(/gRPC-Web listening on https:\/\/\S+:(\d+)/.exec(said)![1]);
    const healthPort = Number(/health checks \(grpc\.health\.v1 only, plaintext\) on \S+:(\d+)/.exec(said)![1]);
    const caPem = await readFile(ca.caCert);

    // HTTP as Envoy forwards it.
    const through = { host: publicHost, servername: serverName, ca: caPem };
    const page = await get(httpPort, '/', through);
    expect(page).toEqual({ status: 200, type: 'text/html; charset=utf-8' });
    const tile = `/api/slides/${encodeURIComponent(SLIDE)}/tiles/0/0/0`;
    expect((await get(httpPort, tile, through)).status).toBe(401);
    const withToken = await get(httpPort, tile, { ...through, token: VIEWER_TOKEN });
    expect(withToken.status).toBe(200);
    expect(withToken.type).toMatch(/^image\//);
    expect((await get(httpPort, tile, { ...through, token: 'not-a-token' })).status).toBe(401);
    // Any other name is still refused (DNS rebinding).
    expect((await get(httpPort, '/', { ...through, host: 'attacker.example' })).status).toBe(403);

    // gRPC as Envoy sends it (gRPC-Web translated): TLS to the headless name, the browser's token passed on.
    const tls = { ca: caPem, servername: serverName };
    const viewer = glomsegClient(`127.0.0.1:${grpcPort}`, {
      tls,
      headers: { authorization: `Bearer ${VIEWER_TOKEN}` },
    });
    expect((await viewer.listSlides({})).slides.map((s) => s.id)).toContain(SLIDE);
    const anonymous = glomsegClient(`127.0.0.1:${grpcPort}`, { tls });
    expect((await statusOf(anonymous.listSlides({}))).code).toBe(Code.Unauthenticated);

    // The cohort Job's --token-file and --tls-ca, from its own Secret mounts, against the name its --server names.
    const cohort = (await docsOf('cohort-job.yaml')).find(
      (d) => d.kind === 'Job' && d.metadata.name === 'glomseg-cohort',
    );
    const jobPod = cohort.spec.template.spec;
    const [job] = jobPod.containers;
    const jobMounts = await materialiseSecretVolumes(jobPod, job, secrets, path.join(scratch, 'cohort'));
    const target = /^dns:\/\/\/([^:]+):(\d+)$/.exec(flag(job.args, 'server')!)!;
    expect(target[1]).toBe(serverName);
    const auth = await loadClientAuth({
      tokenFile: localPath(flag(job.args, 'token-file')!, jobMounts),
      tlsCa: localPath(flag(job.args, 'tls-ca')!, jobMounts),
    });
    const batch = await connectGlomseg(`127.0.0.1:${grpcPort}`, 10_000, auth, {
      'grpc.ssl_target_name_override': target[1],
    });
    expect((await batch.api.listSlides({})).slides.map((s) => s.id)).toContain(SLIDE);
    batch.close();

    // The kubelet's probes: plaintext gRPC health on the port and services they name.
    const probes = [container.startupProbe, container.readinessProbe, container.livenessProbe].map((p) => p.grpc);
    for (const probe of probes) expect(String(probe.port)).toBe(flag(args, 'health-port'));
    const health = healthClient(`127.0.0.1:${healthPort}`);
    for (const probe of probes)
      expect((await health.check({ service: probe.service ?? '' })).status).toBe(Status.SERVING);

    for (const client of [viewer, anonymous, health]) client.close();
    child.kill('SIGTERM');
    expect(await exited).toBe(0);
  }, 180_000);
});
