/**
 * deploy/ as users run it: every Kubernetes manifest validated against the Kubernetes API schemas
 * (kubernetes-models), and checked for what this deployment depends on: GPU requests, gRPC health probes on the
 * ports the server listens on, a headless Service, an Indexed Job whose --shard count is its completions, the
 * Envoy gRPC-Web route to the headless Service, and a non-root image with the model and a health check.
 */
import { describe, expect, it } from 'vitest';
import { readFile, readdir } from 'node:fs/promises';
import path from 'node:path';
import { parseAllDocuments, parse } from 'yaml';
import { Deployment } from 'kubernetes-models/apps/v1';
import { Job } from 'kubernetes-models/batch/v1';
import { PodDisruptionBudget } from 'kubernetes-models/policy/v1';
import { ConfigMap, Namespace, PersistentVolumeClaim, Service } from 'kubernetes-models/v1';
import { buildProgram } from '../../server/src/cli/main.js';
import { LIVENESS_SERVICE } from '../../server/src/grpc/grpc-server.js';
import { Glomseg } from '@glomseg/api/gen/glomseg/v1/glomseg_pb.js';

const SERVICE_NAME = Glomseg.typeName;
import { REPO_ROOT } from '../helpers/paths.js';

const KUBE = path.join(REPO_ROOT, 'deploy', 'kubernetes');

/** Kubernetes kinds → their schema-validated models: a kind not listed here fails the test. */
const MODELS: Record<string, new (data: any) => { validate(): void }> = {
  'apps/v1/Deployment': Deployment,
  'batch/v1/Job': Job,
  'policy/v1/PodDisruptionBudget': PodDisruptionBudget,
  'v1/ConfigMap': ConfigMap,
  'v1/Namespace': Namespace,
  'v1/PersistentVolumeClaim': PersistentVolumeClaim,
  'v1/Service': Service,
};

async function manifests(): Promise<Array<{ file: string; doc: any }>> {
  const out: Array<{ file: string; doc: any }> = [];
  for (const file of (await readdir(KUBE)).filter((f) => f.endsWith('.yaml') && f !== 'kustomization.yaml').sort()) {
    for (const document of parseAllDocuments(await readFile(path.join(KUBE, file), 'utf8'))) {
      expect(document.errors, file).toEqual([]);
      out.push({ file, doc: document.toJS() });
    }
  }
  return out;
}

function validate(doc: any): void {
  const Model = MODELS[`${doc.apiVersion}/${doc.kind}`];
  if (!Model) throw new Error(`no schema model for ${doc.apiVersion} ${doc.kind}`);
  new Model(doc).validate();
}

const find = (docs: Array<{ doc: any }>, kind: string, name: string) => docs.map((d) => d.doc).find((d) => d.kind === kind && d.metadata.name === name);

/** The value of `--name=value` or `--name value` in a container's args. */
function flag(args: string[], name: string): string | undefined {
  const i = args.findIndex((a) => a === `--${name}` || a.startsWith(`--${name}=`));
  if (i < 0) return undefined;
  return args[i].includes('=') ? args[i].slice(args[i].indexOf('=') + 1) : args[i + 1];
}

describe('deploy/kubernetes', () => {
  it('every manifest is valid against the Kubernetes schemas (and the validator does reject a broken one)', async () => {
    const docs = await manifests();
    expect(docs.length).toBeGreaterThanOrEqual(8);
    for (const { file, doc } of docs) expect(() => validate(doc), `${file}: ${doc.kind} ${doc.metadata?.name}`).not.toThrow();
    const broken = structuredClone(find(docs, 'Deployment', 'glomseg-server'));
    broken.spec.template.spec.containers[0].readinessProbe.grpc.port = 'grpc';
    expect(() => validate(broken)).toThrow();
    const kustomization = parse(await readFile(path.join(KUBE, 'kustomization.yaml'), 'utf8'));
    for (const resource of kustomization.resources) await readFile(path.join(KUBE, resource));
    expect(kustomization.resources).not.toContain('cohort-merge-job.yaml'); // it runs after the cohort, by hand
  });

  it('serves from GPU pods with gRPC health probes, behind a headless Service, draining within the grace period', async () => {
    const docs = await manifests();
    const deployment = find(docs, 'Deployment', 'glomseg-server');
    const pod = deployment.spec.template.spec;
    const [container] = pod.containers;
    expect(container.resources.requests['nvidia.com/gpu']).toBe('1');
    expect(container.resources.limits['nvidia.com/gpu']).toBe('1');
    const grpcPort = Number(flag(container.args, 'port'));
    expect(container.ports.find((p: any) => p.name === 'grpc').containerPort).toBe(grpcPort);
    expect(container.readinessProbe.grpc).toEqual({ port: grpcPort, service: SERVICE_NAME });
    expect(container.livenessProbe.grpc).toEqual({ port: grpcPort, service: LIVENESS_SERVICE });
    expect(container.startupProbe.grpc.port).toBe(grpcPort);
    expect(Number(flag(container.args, 'shutdown-grace'))).toBeLessThan(pod.terminationGracePeriodSeconds);
    expect(pod.securityContext.runAsNonRoot).toBe(true);
    // The args parse as the real CLI's serve command.
    const program = buildProgram();
    const serve = program.commands.find((c) => c.name() === 'serve')!;
    serve.action(() => {});
    await program.parseAsync(['node', 'glomseg', ...container.args]);
    expect(serve.opts().slideUrlPrefix).toContain('s3://lab-slides/');

    const service = find(docs, 'Service', 'glomseg-headless');
    expect(service.spec.clusterIP).toBe('None');
    expect(service.spec.selector).toEqual(deployment.spec.selector.matchLabels);
    expect(service.spec.ports.find((p: any) => p.name === 'grpc').port).toBe(grpcPort);
  });

  it('scores a cohort as an Indexed Job: one shard per completion index, through the headless Service', async () => {
    const docs = await manifests();
    const job = find(docs, 'Job', 'glomseg-cohort');
    expect(job.spec.completionMode).toBe('Indexed');
    const [container] = job.spec.template.spec.containers;
    expect(flag(container.args, 'shard')).toBe(`$(JOB_COMPLETION_INDEX)/${job.spec.completions}`);
    expect(flag(container.args, 'out')).toMatch(/\$\(JOB_COMPLETION_INDEX\)$/);
    expect(container.env.find((e: any) => e.name === 'JOB_COMPLETION_INDEX').valueFrom.fieldRef.fieldPath).toMatch(/job-completion-index/);
    const server = flag(container.args, 'server')!;
    const service = find(docs, 'Service', 'glomseg-headless');
    expect(server).toBe(`dns:///${service.metadata.name}.${service.metadata.namespace}.svc.cluster.local:${service.spec.ports[0].port}`);
    const list = find(docs, 'ConfigMap', 'glomseg-cohort');
    expect(container.volumeMounts.find((m: any) => m.name === 'cohort').mountPath).toBe(path.dirname(flag(container.args, 'list')!));
    expect(list.data[path.basename(flag(container.args, 'list')!)]).toMatch(/^s3:\/\//m);
    const merge = find(docs, 'Job', 'glomseg-cohort-merge');
    expect(merge.spec.template.spec.containers[0].args[0]).toBe('merge');
  });

  it('routes gRPC-Web from Envoy to every server pod', async () => {
    const envoy = parse(await readFile(path.join(KUBE, 'envoy', 'envoy.yaml'), 'utf8'));
    const hcm = envoy.static_resources.listeners[0].filter_chains[0].filters[0].typed_config;
    expect(hcm.http_filters.map((f: any) => f.name)).toEqual(['envoy.filters.http.grpc_web', 'envoy.filters.http.cors', 'envoy.filters.http.router']);
    const route = hcm.route_config.virtual_hosts[0].routes.find((r: any) => r.match.prefix === `/${SERVICE_NAME}/`);
    const cluster = envoy.static_resources.clusters.find((c: any) => c.name === route.route.cluster);
    expect(cluster.type).toBe('STRICT_DNS');
    expect(cluster.typed_extension_protocol_options['envoy.extensions.upstreams.http.v3.HttpProtocolOptions'].explicit_http_config).toHaveProperty('http2_protocol_options');
    expect(cluster.health_checks[0].grpc_health_check.service_name).toBe(SERVICE_NAME);
    const address = cluster.load_assignment.endpoints[0].lb_endpoints[0].endpoint.address.socket_address;
    expect(address).toEqual({ address: 'glomseg-headless.lab.svc.cluster.local', port_value: 50051 });
    const docs = await manifests();
    const deployment = find(docs, 'Deployment', 'glomseg-envoy');
    expect(deployment.spec.template.spec.volumes[0].configMap.name).toBe(parse(await readFile(path.join(KUBE, 'kustomization.yaml'), 'utf8')).configMapGenerator[0].name);
  });
});

describe('deploy/Containerfile', () => {
  it('runs as a non-root user, ships the model and checks gRPC health', async () => {
    const lines = (await readFile(path.join(REPO_ROOT, 'deploy', 'Containerfile'), 'utf8')).split('\n').filter((l) => !l.startsWith('#'));
    const finalStage = lines.slice(lines.map((l) => l.startsWith('FROM ')).lastIndexOf(true));
    const user = finalStage.find((l) => l.startsWith('USER '))!.split(/\s+/)[1];
    expect(user.split(':')[0]).not.toMatch(/^(0|root)$/);
    expect(lines.some((l) => /^COPY models models/.test(l))).toBe(true);
    expect(finalStage.join('\n')).toMatch(/HEALTHCHECK[^\n]*\n?.*health.*--service", "liveness"/);
  });
});
