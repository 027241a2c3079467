import net from 'node:net';
import { GlomsegApp } from './app.ts';
const app = await GlomsegApp.start({ slideFolders: ['/work/shared/data/hubmap-vu/eval-region'], modelFolder: '/work/wt-issue-11/models', httpPort: false, device: 'cpu', connections: { handshakeTimeoutMs: 300 } });
const port = Number(app.grpcAddress.split(':').pop());
const s = net.connect(port, '127.0.0.1', () => console.log('connected'));
s.on('close', () => { console.log('closed', app.grpcConnections()); void app.close(); });
s.on('end', () => console.log('end'));
setTimeout(() => { console.log('still open after 3s', app.grpcConnections()); process.exit(1); }, 3000);
