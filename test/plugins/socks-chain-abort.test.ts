import { expect } from 'chai';
import * as net from 'node:net';
import type { Duplex } from 'node:stream';
import { SocksChainDialer } from '../../plugins/socks-chain/src/index';
import { securityFor } from '../proxy/peer-client';

/** Reads exactly n bytes from a paused-mode stream. */
function read(stream: Duplex, n: number): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    let got = Buffer.alloc(0);
    const onData = (chunk: Buffer) => {
      got = Buffer.concat([got, chunk]);
      if (got.length < n) return;
      stream.off('data', onData);
      stream.off('error', reject);
      resolve(got);
    };
    stream.on('data', onData);
    stream.once('error', reject);
  });
}

/**
 * A peer's proxy that takes method 0x86 and TLS with the network key, accepts
 * SOCKS5 inside, then never answers the CONNECT: the dial is left waiting in
 * its last phase, where only an abort can end it.
 */
type Phase = 'method negotiation' | 'TLS handshake' | 'SOCKS CONNECT';

async function stallingPeerProxy(phase: Phase): Promise<{ port: number; connectSeen: Promise<void>; close(): void }> {
  const security = securityFor();
  const sockets: net.Socket[] = [];
  let seen!: () => void;
  const connectSeen = new Promise<void>((resolve) => (seen = resolve));
  const server = net.createServer((socket) => {
    sockets.push(socket);
    socket.on('error', () => undefined);
    void (async () => {
      await read(socket, 3); // 05 01 86
      if (phase === 'method negotiation') return seen();
      socket.write(Buffer.from([0x05, 0x86]));
      if (phase === 'TLS handshake') return seen(); // and never speaks TLS
      const secured = await security.secureServer(socket);
      secured.on('error', () => undefined);
      await read(secured, 3); // 05 01 00
      secured.write(Buffer.from([0x05, 0x00]));
      await read(secured, 10); // CONNECT 127.0.0.1:port
      seen();
    })().catch(() => undefined);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    port: (server.address() as net.AddressInfo).port,
    connectSeen,
    close: () => {
      sockets.forEach((s) => s.destroy());
      server.close();
    },
  };
}

describe('socks-chain dialer: an abort in any phase fails the dial, never the process', () => {
  for (const phase of ['method negotiation', 'TLS handshake', 'SOCKS CONNECT'] as const)
    it(`a dial aborted during ${phase} rejects with ABORT_ERR and raises no uncaught error`, async () => {
      const peer = await stallingPeerProxy(phase);
      const uncaught: Error[] = [];
      const onUncaught = (err: Error) => uncaught.push(err);
      // Mocha's own handler would fail the test too; this one lets the test say what happened.
      const mochaHandlers = process.listeners('uncaughtException');
      process.removeAllListeners('uncaughtException');
      process.on('uncaughtException', onUncaught);
      try {
        const dialer = new SocksChainDialer(securityFor());
        const abort = new AbortController();
        const dial = dialer.dial({
          target: { host: '127.0.0.1', port: 9, kind: 'ipv4' },
          source: {
            id: 'peer',
            kind: 'peer',
            label: 'peer',
            dialer: 'socks5-chain',
            local: false,
            proxy: { host: '127.0.0.1', port: peer.port, secure: true },
          },
          signal: abort.signal,
        });
        await peer.connectSeen;
        // From a timer, as a heartbeat timeout or a closing link does it.
        setTimeout(() => abort.abort(new Error('the source went down')), 0);
        const err = await dial.then(
          () => undefined,
          (e: Error & { code?: string }) => e,
        );
        expect(err?.code, err?.message).to.equal('ABORT_ERR');
        await new Promise((r) => setTimeout(r, 100));
        expect(uncaught.map((e) => e.message)).to.deep.equal([]);
      } finally {
        process.off('uncaughtException', onUncaught);
        for (const h of mochaHandlers) process.on('uncaughtException', h);
        peer.close();
      }
    });
});
