/**
 * deploy/ as users run it: every Kubernetes manifest validated against the Kubernetes API schemas
 * (kubernetes-models), and checked for what this deployment depends on: a CPU Deployment for the CPU image and a
 * GPU overlay (deploy/kubernetes-gpu, its patches applied here) for the CUDA one, gRPC health probes on the
 * plaintext health port, a headless Service, an Indexed Job whose --shard count is its completions and that
 * presents the servers' token and CA, the Envoy gRPC-Web route to the headless Service over TLS, and a non-root
 * image with the model and a health check. server-manifest.test.ts runs the server as the manifests render it.
 */
import { describe, expect, it } from 'vitest';
import { readFile, readdir } from 'node:fs/promises';
import path from 'node:path';
import { parseAllDocuments, parse } from 'yaml';
import { applyPatch, type Operation } from 'fast-json-patch';
import { Deployment } from 'kubernetes-models/apps/v1';
import { Job } from 'kubernetes-models/batch/v1';
import { PodDisruptionBudget } from 'kubernetes-models/policy/v1';
import { ConfigMap, Namespace, PersistentVolumeClaim, Service } from 'kubernetes-models/v1';
import { buildProgram } from '../../server/src/cli/main.js';
import { LIVENESS_SERVICE } from '../../server/src/grpc/grpc-server.js';
import { Glomseg } from '@glomseg/api/gen/glomseg/v1/glomseg_pb.js';

const SERVICE_NAME = Glomseg.typeName;
import { REPO_ROOT } from '../helpers/paths.js';
import { fileSource } from './pod-render.js';

const KUBE = path.join(REPO_ROOT, 'deploy', 'kubernetes');
const GPU_OVERLAY = path.join(REPO_ROOT, 'deploy', 'kubernetes-gpu');

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

const find = (docs: Array<{ doc: any }>, kind: string, name: string) =>
  docs.map((d) => d.doc).find((d) => d.kind === kind && d.metadata.name === name);

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
    for (const { file, doc } of docs)
      expect(() => validate(doc), `${file}: ${doc.kind} ${doc.metadata?.name}`).not.toThrow();
    const broken = structuredClone(find(docs, 'Deployment', 'glomseg-server'));
    broken.spec.template.spec.containers[0].readinessProbe.grpc.port = 'grpc';
    expect(() => validate(broken)).toThrow();
    const kustomization = parse(await readFile(path.join(KUBE, 'kustomization.yaml'), 'utf8'));
    for (const resource of kustomization.resources) await readFile(path.join(KUBE, resource));
    expect(kustomization.resources).not.toContain('cohort-merge-job.yaml'); // it runs after the cohort, by hand
  });

  it('serves on CPU like the default image, probed on the plaintext health port, behind a headless Service, draining within the grace period', async () => {
    const docs = await manifests();
    const deployment = find(docs, 'Deployment', 'glomseg-server');
    const pod = deployment.spec.template.spec;
    const [container] = pod.containers;
    // The default image carries ONNX Runtime's CPU provider only (ONNXRUNTIME_NODE_INSTALL=skip): no GPU asked for.
    const containerfile = await readFile(path.join(REPO_ROOT, 'deploy', 'Containerfile'), 'utf8');
    expect(/^ARG ONNXRUNTIME_NODE_INSTALL=(\S+)$/m.exec(containerfile)?.[1]).toBe('skip');
    for (const pods of docs.filter(({ doc }) => doc.spec?.template?.spec).map(({ doc }) => doc.spec.template.spec)) {
      for (const c of pods.containers) expect(JSON.stringify(c.resources ?? {})).not.toMatch(/gpu/i);
      expect(JSON.stringify(pods.tolerations ?? [])).not.toMatch(/gpu/i);
    }
    expect(flag(container.args, 'device')).toBe('cpu');
    const grpcPort = Number(flag(container.args, 'port'));
    const healthPort = Number(flag(container.args, 'health-port'));
    expect(container.ports.find((p: any) => p.name === 'grpc').containerPort).toBe(grpcPort);
    expect(container.ports.find((p: any) => p.name === 'health').containerPort).toBe(healthPort);
    // The kubelet's gRPC probes speak no TLS: they ask the health port, which serves health alone in plaintext.
    expect(container.readinessProbe.grpc).toEqual({ port: healthPort, service: SERVICE_NAME });
    expect(container.livenessProbe.grpc).toEqual({ port: healthPort, service: LIVENESS_SERVICE });
    expect(container.startupProbe.grpc).toEqual({ port: healthPort, service: LIVENESS_SERVICE });
    // Token and TLS from Secrets, the public host name from the ConfigMap (server-manifest.test.ts runs them).
    for (const [file, secret] of [
      ['auth-token-file', 'glomseg-auth'],
      ['tls-cert', 'glomseg-tls'],
      ['tls-key', 'glomseg-tls'],
    ]) {
      expect(fileSource(pod, container, flag(container.args, file)!).volume.secret?.secretName, file).toBe(secret);
    }
    expect(flag(container.args, 'allowed-host')).toBe('$(GLOMSEG_PUBLIC_HOST)');
    const hostRef = container.env.find((e: any) => e.name === 'GLOMSEG_PUBLIC_HOST').valueFrom.configMapKeyRef;
    expect(find(docs, 'ConfigMap', hostRef.name).data[hostRef.key]).toMatch(/^[a-z0-9.-]+$/);
    expect(Number(flag(container.args, 'shutdown-grace'))).toBeLessThan(pod.terminationGracePeriodSeconds);
    expect(pod.securityContext.runAsNonRoot).toBe(true);
    // The args parse as the real CLI's serve command.
    const program = buildProgram();
    const serve = program.commands.find((c) => c.name() === 'serve')!;
    serve.action(() => {});
    await program.parseAsync(['node', 'glomseg', ...container.args]);
    expect(serve.opts().slideUrlPrefix).toContain('s3://lab-slides/');
    // The per-peer connection bound Envoy relies on is explicit, and parses (the Envoy test checks they agree).
    expect(serve.opts().maxConnectionsPerPeer).toBeGreaterThan(0);
    expect(serve.opts().maxConnectionsPerPeer).toBe(Number(flag(container.args, 'max-connections-per-peer')));

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
    expect(container.env.find((e: any) => e.name === 'JOB_COMPLETION_INDEX').valueFrom.fieldRef.fieldPath).toMatch(
      /job-completion-index/,
    );
    const server = flag(container.args, 'server')!;
    const service = find(docs, 'Service', 'glomseg-headless');
    expect(server).toBe(
      `dns:///${service.metadata.name}.${service.metadata.namespace}.svc.cluster.local:${service.spec.ports[0].port}`,
    );
    // The servers want TLS and a token: the Job presents the first token of their Secret and trusts their CA.
    const pod = job.spec.template.spec;
    expect(fileSource(pod, container, flag(container.args, 'token-file')!)).toMatchObject({
      key: 'tokens',
      volume: { secret: { secretName: 'glomseg-auth' } },
    });
    expect(fileSource(pod, container, flag(container.args, 'tls-ca')!)).toMatchObject({
      key: 'ca.crt',
      volume: { secret: { secretName: 'glomseg-tls' } },
    });
    const list = find(docs, 'ConfigMap', 'glomseg-cohort');
    expect(container.volumeMounts.find((m: any) => m.name === 'cohort').mountPath).toBe(
      path.dirname(flag(container.args, 'list')!),
    );
    expect(list.data[path.basename(flag(container.args, 'list')!)]).toMatch(/^s3:\/\//m);
    const merge = find(docs, 'Job', 'glomseg-cohort-merge');
    expect(merge.spec.template.spec.containers[0].args[0]).toBe('merge');
  });

  it("routes gRPC-Web from Envoy to every server pod, over TLS checked against the servers' CA and name", async () => {
    const envoy = parse(await readFile(path.join(KUBE, 'envoy', 'envoy.yaml'), 'utf8'));
    const hcm = envoy.static_resources.listeners[0].filter_chains[0].filters[0].typed_config;
    expect(hcm.http_filters.map((f: any) => f.name)).toEqual([
      'envoy.filters.http.grpc_web',
      'envoy.filters.http.cors',
      'envoy.filters.http.router',
    ]);
    const route = hcm.route_config.virtual_hosts[0].routes.find((r: any) => r.match.prefix === `/${SERVICE_NAME}/`);
    const cluster = envoy.static_resources.clusters.find((c: any) => c.name === route.route.cluster);
    expect(cluster.type).toBe('STRICT_DNS');
    expect(
      cluster.typed_extension_protocol_options['envoy.extensions.upstreams.http.v3.HttpProtocolOptions']
        .explicit_http_config,
    ).toHaveProperty('http2_protocol_options');
    expect(cluster.health_checks[0].grpc_health_check.service_name).toBe(SERVICE_NAME);
    const address = cluster.load_assignment.endpoints[0].lb_endpoints[0].endpoint.address.socket_address;
    expect(address).toEqual({ address: 'glomseg-headless.lab.svc.cluster.local', port_value: 50051 });
    const docs = await manifests();
    const deployment = find(docs, 'Deployment', 'glomseg-envoy');
    expect(deployment.spec.template.spec.volumes[0].configMap.name).toBe(
      parse(await readFile(path.join(KUBE, 'kustomization.yaml'), 'utf8')).configMapGenerator[0].name,
    );
    // Both clusters speak TLS to the servers, for the headless Service's name, trusting the CA in glomseg-tls.
    const [envoyContainer] = deployment.spec.template.spec.containers;
    for (const upstream of envoy.static_resources.clusters) {
      const tls = upstream.transport_socket.typed_config;
      expect(tls['@type']).toMatch(/UpstreamTlsContext$/);
      expect(tls.sni).toBe(address.address);
      expect(tls.common_tls_context.validation_context.match_typed_subject_alt_names).toEqual([
        { san_type: 'DNS', matcher: { exact: address.address } },
      ]);
      const caFile = tls.common_tls_context.validation_context.trusted_ca.filename;
      expect(fileSource(deployment.spec.template.spec, envoyContainer, caFile)).toMatchObject({
        key: 'ca.crt',
        volume: { secret: { secretName: 'glomseg-tls' } },
      });
    }
    // Each Envoy opens to one server as many connections per cluster (one cluster per port) as the server's socket
    // gate keeps from one peer address, its --max-connections-per-peer, set in server.yaml: a proxy's connections
    // past that bound would push out its own; HTTP/1.1 connections idle out before the server's 5 s keep-alive
    // closes them (web-server.ts).
    const server = find(docs, 'Deployment', 'glomseg-server').spec.template.spec.containers[0];
    const perPeer = Number(flag(server.args, 'max-connections-per-peer'));
    expect(perPeer).toBeGreaterThan(0);
    for (const upstream of envoy.static_resources.clusters) {
      expect(upstream.circuit_breakers.per_host_thresholds[0].max_connections, upstream.name).toBe(perPeer);
    }
    const httpOptions = envoy.static_resources.clusters.find((c: any) => c.name === 'glomseg-http')
      .typed_extension_protocol_options['envoy.extensions.upstreams.http.v3.HttpProtocolOptions'];
    expect(parseFloat(httpOptions.common_http_protocol_options.idle_timeout)).toBeLessThan(5);
    // It answers to the public name alone and forwards it as Host: the name the servers allow.
    expect(hcm.strip_any_host_port).toBe(true);
    expect(hcm.route_config.virtual_hosts[0].domains).toEqual([find(docs, 'ConfigMap', 'glomseg-public').data.host]);
  });

  it('has a GPU overlay whose servers ask for a GPU and run the CUDA image on it', async () => {
    const overlay = parse(await readFile(path.join(GPU_OVERLAY, 'kustomization.yaml'), 'utf8'));
    expect(overlay.resources.map((r: string) => path.resolve(GPU_OVERLAY, r))).toEqual([KUBE]);
    const docs = (await manifests()).map(({ doc }) => doc);
    // Kustomize's JSON 6902 patches, applied as it applies them (its 'test' operations included).
    for (const { target, patch } of overlay.patches) {
      const matching = docs.filter(
        (d) =>
          d.kind === target.kind &&
          d.metadata.name === target.name &&
          d.apiVersion === `${target.group ? `${target.group}/` : ''}${target.version}`,
      );
      expect(matching, JSON.stringify(target)).toHaveLength(1);
      applyPatch(matching[0], parse(patch) as Operation[], true, true);
    }
    const deployment = docs.find((d) => d.kind === 'Deployment' && d.metadata.name === 'glomseg-server');
    expect(() => validate(deployment)).not.toThrow();
    const pod = deployment.spec.template.spec;
    const [container] = pod.containers;
    expect(container.resources.requests['nvidia.com/gpu']).toBe('1');
    expect(container.resources.limits['nvidia.com/gpu']).toBe('1');
    expect(pod.tolerations).toContainEqual({ key: 'nvidia.com/gpu', operator: 'Exists', effect: 'NoSchedule' });
    expect(flag(container.args, 'device')).toBe('cuda');
    // The CUDA image the docs say how to build.
    const tag = container.image.split(':').at(-1);
    expect(tag).toMatch(/cuda12$/);
    expect(await readFile(path.join(REPO_ROOT, 'docs', 'deploy.md'), 'utf8')).toMatch(
      new RegExp(`ONNXRUNTIME_NODE_INSTALL=cuda12[^\\n]*\\n?[^\\n]*:${tag}`),
    );
    const program = buildProgram();
    const serve = program.commands.find((c) => c.name() === 'serve')!;
    serve.action(() => {});
    await program.parseAsync(['node', 'glomseg', ...container.args]);
    expect(serve.opts().device).toBe('cuda');
  });
});

describe('deploy/Containerfile', () => {
  it('runs as a non-root user, ships the model and checks gRPC health', async () => {
    const lines = (await readFile(path.join(REPO_ROOT, 'deploy', 'Containerfile'), 'utf8'))
      .split('\n')
      .filter((l) => !l.startsWith('#'));
    const finalStage = lines.slice(lines.map((l) => l.startsWith('FROM ')).lastIndexOf(true));
    const user = finalStage.find((l) => l.startsWith('USER '))!.split(/\s+/)[1];
    expect(user.split(':')[0]).not.toMatch(/^(0|root)$/);
    expect(lines.some((l) => /^COPY models models/.test(l))).toBe(true);
    expect(finalStage.join('\n')).toMatch(/HEALTHCHECK[^\n]*\n?.*health.*--service", "liveness"/);
  });
});
