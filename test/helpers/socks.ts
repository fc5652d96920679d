import * as http from 'node:http';
import { SocksClient } from 'socks';

/** GETs http://host:port/path through a SOCKS5 proxy with the `socks` package; resolves with status and body. */
export async function getViaSocks(proxyPort: number, host: string, port: number, path: string): Promise<{ status: number; body: Buffer }> {
  const { socket } = await SocksClient.createConnection({
    proxy: { host: '127.0.0.1', port: proxyPort, type: 5 },
    command: 'connect',
    destination: { host, port },
    timeout: 10_000,
  });
  return new Promise((resolve, reject) => {
    const req = http.request({ createConnection: () => socket, host, port, path, headers: { connection: 'close' } }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks) }));
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end();
  });
}
