import { expect } from 'chai';
import { NetworkKey } from '../../src/security/key';
import { LOOPBACK_ONLY, type ProxyAccess } from '../../src/proxy/access';
import { sha256, startOrigin, startProxy, useProxyFixture } from './harness';
import { connectAsPeer, openAsPeer, securityFor, type PeerConnection } from './peer-client';

const security = securityFor();

/** Every client connects from 127.0.0.1: a classifier that calls it a stranger stands in for a peer on the LAN. */
const strangerWithKey: ProxyAccess = { classify: () => 'stranger', openProxy: false, secureServer: (s, signal) => security.secureServer(s, signal) };

/** GET path over an established stream to the origin; resolves with the whole response. */
async function get(peer: PeerConnection, path: string): Promise<Buffer> {
  peer.secured.write(`GET ${path} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n`);
  const chunks: Buffer[] = [];
  for await (const chunk of peer.secured) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

describe('proxy: booster peers (SOCKS5 method 0x86, TLS with the network key)', function () {
  this.timeout(15_000);
  const peers: PeerConnection[] = [];
  const fx = useProxyFixture({ origin: startOrigin, teardown: () => peers.splice(0).forEach((p) => p.raw.destroy()) });
  const destination = () => ({ host: '127.0.0.1', port: fx.origin.port });

  it('serves a peer that holds the key, though its address is a stranger’s and the proxy wants credentials; it stays restricted', async () => {
    fx.proxy = await startProxy({ access: strangerWithKey, auth: { username: 'alice', password: 's3cret' } });
    const peer = await openAsPeer(fx.proxy.port, security, destination());
    peers.push(peer);
    expect((await get(peer, '/hello')).toString()).to.match(/\r\n\r\nhello\n$/);
    expect(fx.proxy.connector.requests.map((r) => [r.protocol, r.restricted])).to.deep.equal([['socks5', true]]);
  });

  it('relays a multi-MB download intact through TLS', async () => {
    fx.proxy = await startProxy({ access: strangerWithKey });
    const peer = await openAsPeer(fx.proxy.port, security, destination());
    peers.push(peer);
    const response = await get(peer, '/blob');
    expect(sha256(response.subarray(response.indexOf('\r\n\r\n') + 4))).to.equal(fx.origin.blobSha256);
    const [tunnel] = fx.proxy.connector.tunnels;
    await tunnel.closed;
    expect(tunnel.error).to.equal(undefined);
  });

  it('a peer on this machine is not restricted (the restriction follows the address)', async () => {
    fx.proxy = await startProxy({ access: { ...LOOPBACK_ONLY, secureServer: strangerWithKey.secureServer } });
    const peer = await openAsPeer(fx.proxy.port, security, destination());
    peers.push(peer);
    expect(fx.proxy.connector.requests[0].restricted).to.equal(false);
  });

  it('a wrong key fails the TLS handshake: the connection is closed, logged, and nothing is dialed', async () => {
    fx.proxy = await startProxy({ access: strangerWithKey });
    const err = await connectAsPeer(fx.proxy.port, securityFor(NetworkKey.generate('other'))).then(
      () => undefined,
      (e: Error) => e,
    );
    expect(err?.message).to.match(/network key/);
    expect((await fx.proxy.nextRejection()).reason).to.match(/^booster TLS \(SOCKS5 method 0x86\) failed: .*network key/);
    expect(fx.proxy.connector.requests).to.have.length(0);
  });

  it('bytes sent before the [05 86] reply are a protocol error', async () => {
    fx.proxy = await startProxy({ access: strangerWithKey });
    const c = await fx.raw();
    c.send([0x05, 0x01, 0x86, 0x16, 0x03, 0x01]);
    expect([...(await c.readToClose())]).to.deep.equal([0x05, 0x86]);
    expect((await fx.proxy.nextRejection()).reason).to.match(/sent 3 byte\(s\) before the reply to method 0x86/);
  });

  it('a client that ends in the middle of the TLS handshake is closed at once, not after the TLS timeout', async () => {
    const patient = securityFor(undefined, 60_000);
    fx.proxy = await startProxy({ access: { ...strangerWithKey, secureServer: (s, signal) => patient.secureServer(s, signal) } });
    const c = await fx.raw();
    c.send([0x05, 0x01, 0x86]);
    expect([...(await c.read(2))]).to.deep.equal([0x05, 0x86]);
    c.socket.end();
    await c.gone(5000);
    expect((await fx.proxy.nextRejection()).reason).to.match(/booster TLS \(SOCKS5 method 0x86\) failed/);
  });

  it('half-close inside TLS: a peer that ends after its request still gets the whole response', async () => {
    fx.proxy = await startProxy({ access: strangerWithKey });
    const peer = await openAsPeer(fx.proxy.port, security, destination());
    peers.push(peer);
    peer.secured.end(`GET /blob HTTP/1.1\r\nHost: x\r\n\r\n`);
    const chunks: Buffer[] = [];
    for await (const chunk of peer.secured) chunks.push(chunk as Buffer);
    const response = Buffer.concat(chunks);
    expect(sha256(response.subarray(response.indexOf('\r\n\r\n') + 4))).to.equal(fx.origin.blobSha256);
  });

  it('a client offering 0x86 among other methods gets 0x86', async () => {
    fx.proxy = await startProxy({ access: strangerWithKey });
    const c = await fx.raw();
    c.send([0x05, 0x03, 0x00, 0x02, 0x86]);
    expect([...(await c.read(2))]).to.deep.equal([0x05, 0x86]);
  });

  it('without the network key the proxy never chooses 0x86', async () => {
    fx.proxy = await startProxy();
    const only = await fx.raw();
    only.send([0x05, 0x01, 0x86]);
    expect([...(await only.readToClose())]).to.deep.equal([0x05, 0xff]);
    const among = await fx.raw();
    among.send([0x05, 0x02, 0x86, 0x00]);
    expect([...(await among.read(2))]).to.deep.equal([0x05, 0x00]);
  });

  it('inside TLS, 0x86 is not chosen again', async () => {
    fx.proxy = await startProxy({ access: strangerWithKey });
    const peer = await connectAsPeer(fx.proxy.port, security);
    peers.push(peer);
    peer.secured.write(Buffer.from([0x05, 0x01, 0x86]));
    const chunks: Buffer[] = [];
    for await (const chunk of peer.secured) chunks.push(chunk as Buffer);
    expect([...Buffer.concat(chunks)]).to.deep.equal([0x05, 0xff]);
  });
});
