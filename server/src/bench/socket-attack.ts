/**
 * Peers that try to lock real clients out of a port by holding its sockets (issue 26's lockout and idle cases),
 * for `npm run bench:hardening` and the connection gate tests. Each socket comes from one of `addresses` in turn
 * (on Linux all of 127.0.0.0/8 is loopback, so 127.0.0.x stand for many hosts) and is, by its kind:
 * - `silent`: connects and sends nothing;
 * - `http-without-token`: one HTTP/1.1 request to /metrics without a token (401), then holds the keep-alive socket;
 * - `grpc-without-token`: an HTTP/2 connection making one ListSlides call without a token, then held open;
 * - `grpc-health`: the same with one (open) health check.
 * With `reopen`, a socket the server drops is opened again at once, as a persistent attacker does.
 * `SocketAttack.inChild` runs one in a process of its own, so that its loop does not slow the one measuring.
 */
import { fork } from 'node:child_process';
import http2 from 'node:http2';
import net from 'node:net';
import { fileURLToPath } from 'node:url';

export type AttackSocketKind = 'silent' | 'http-without-token' | 'grpc-without-token' | 'grpc-health';

export interface SocketAttackOptions {
  host: string;
  port: number;
  /** Local addresses to connect from, in turn. */
  addresses: string[];
  count: number;
  /** Socket i is of kind kinds[i % kinds.length]. */
  kinds: AttackSocketKind[];
  reopen?: boolean;
  /** Sockets opened at once while starting (the listen backlog is finite); default 250. */
  batch?: number;
}

export interface AttackSummary {
  /** Answers to the sockets' calls (grpc-status or HTTP status; 'reset' when dropped first) and their counts. */
  answers: Record<string, number>;
  reopened: number;
}

export interface ChildAttack {
  /** When every socket had been opened once. */
  started: AttackSummary;
  /** Stops the attack (its sockets closed) and ends the process. */
  stop(): Promise<AttackSummary>;
}

const GRPC_PATHS: Partial<Record<AttackSocketKind, string>> = {
  'grpc-without-token': '/glomseg.v1.Glomseg/ListSlides',
  'grpc-health': '/grpc.health.v1.Health/Check',
};

export class SocketAttack {
  /** How each socket's first call was answered (grpc-status or HTTP status), 'reset' when dropped first. */
  readonly answers = new Map<string, number>();
  private stopped = false;
  private reopenedCount = 0;
  private readonly open = new Set<{ destroy(): void }>();

  private constructor(private readonly options: SocketAttackOptions) {}

  /** Opens every socket; resolves once each one made its call and got an answer, or was dropped. */
  static async start(options: SocketAttackOptions): Promise<SocketAttack> {
    const attack = new SocketAttack(options);
    const batch = options.batch ?? 250;
    for (let i = 0; i < options.count; i += batch) {
      await Promise.all(Array.from({ length: Math.min(batch, options.count - i) }, (_, k) => attack.connect(i + k)));
    }
    return attack;
  }

  /** Sockets the server dropped and the attacker opened again. */
  get reopened(): number {
    return this.reopenedCount;
  }

  /** Runs an attack in a child process; resolves once it has opened every socket. */
  static async inChild(options: SocketAttackOptions): Promise<ChildAttack> {
    const child = fork(fileURLToPath(import.meta.url), [JSON.stringify(options)], {
      execArgv: ['--import', 'tsx'],
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    });
    const next = () =>
      new Promise<AttackSummary>((resolve, reject) => {
        child.once('message', (message) => resolve(message as AttackSummary));
        child.once('exit', (code) => reject(new Error(`the attacking process exited (${code}) before it answered`)));
      });
    const started = await next();
    return {
      started,
      stop: async () => {
        const stopped = next();
        child.send('stop');
        const summary = await stopped;
        child.kill();
        return summary;
      },
    };
  }

  summary(): AttackSummary {
    return { answers: Object.fromEntries(this.answers), reopened: this.reopened };
  }

  stop(): void {
    this.stopped = true;
    for (const socket of this.open) socket.destroy();
    this.open.clear();
  }

  private answered(answer: string): void {
    this.answers.set(answer, (this.answers.get(answer) ?? 0) + 1);
  }

  private connect(index: number): Promise<void> {
    const { host, port, addresses } = this.options;
    const kind = this.options.kinds[index % this.options.kinds.length];
    const localAddress = addresses[index % addresses.length];
    return new Promise<void>((settled) => {
      let done = false;
      const settle = (answer?: string) => {
        if (done) return;
        done = true;
        if (answer) this.answered(answer);
        settled();
      };
      const onClose = (handle: { destroy(): void }) => {
        this.open.delete(handle);
        settle('reset');
        if (this.stopped || !this.options.reopen) return;
        this.reopenedCount++;
        setImmediate(() => !this.stopped && void this.connect(index));
      };
      const grpcPath = GRPC_PATHS[kind];
      if (grpcPath) {
        const session = http2.connect(`http://${host}:${port}`, {
          createConnection: () => net.connect({ host, port, localAddress }),
        });
        this.open.add(session);
        session.on('error', () => undefined);
        session.once('close', () => onClose(session));
        const stream = session.request({
          ':method': 'POST',
          ':path': grpcPath,
          'content-type': 'application/grpc',
          te: 'trailers',
        });
        stream.on('error', () => undefined);
        stream.on('data', () => undefined);
        stream.on(
          'response',
          (headers) => headers['grpc-status'] !== undefined && settle(String(headers['grpc-status'])),
        );
        stream.on('trailers', (trailers) => settle(String(trailers['grpc-status'])));
        stream.end(Buffer.alloc(5)); // one empty request message
        return;
      }
      const socket = net.connect({ host, port, localAddress }, () => {
        if (kind === 'silent') settle();
        else socket.write(`GET /metrics HTTP/1.1\r\nHost: ${host}\r\n\r\n`);
      });
      this.open.add(socket);
      socket.on('error', () => undefined);
      // Flowing, so that a socket the server closes notices it.
      socket.on('data', (chunk: Buffer) =>
        settle(/^HTTP\/1\.1 (\d+)/.exec(chunk.toString('latin1'))?.[1] ?? 'unparsed'),
      );
      socket.once('close', () => onClose(socket));
    });
  }
}

// The child of SocketAttack.inChild: options in argv, 'stop' over IPC.
if (process.send && process.argv[1] === fileURLToPath(import.meta.url)) {
  const attack = await SocketAttack.start(JSON.parse(process.argv[2]) as SocketAttackOptions);
  process.send(attack.summary());
  process.on('message', (message) => {
    if (message !== 'stop') return;
    attack.stop();
    process.send!(attack.summary(), () => process.exit(0));
  });
}
