#!/usr/bin/env node
// The floor for a SOCKS5 proxy on one Node event loop: no access control, no
// policy, no accounting, no timeouts, no half-close, IPv4 CONNECT only, and it
// trusts the client to send each handshake message in one segment. Not a
// proxy to use: a yardstick for bench/proxy-cost.sh (what net.Socket itself
// costs per connection), so booster's own overhead can be told apart.
//
//   node bench/floor-socks.js PORT [--onread]
'use strict';
const net = require('node:net');

const port = Number(process.argv[2] ?? 11090);
const useOnread = process.argv.includes('--onread');
const landing = Buffer.allocUnsafe(64 * 1024);
const REPLY = Buffer.from([5, 0, 0, 1, 0, 0, 0, 0, 0, 0]);

net
  .createServer({ noDelay: true }, (client) => {
    client.on('error', () => client.destroy());
    client.once('data', (greeting) => {
      if (greeting[0] !== 5) return client.destroy();
      client.write(Buffer.from([5, 0]));
      client.once('data', (req) => {
        if (req[1] !== 1 || req[3] !== 1) return client.destroy();
        client.pause();
        const host = `${req[4]}.${req[5]}.${req[6]}.${req[7]}`;
        const upstream = net.connect({
          host,
          port: req.readUInt16BE(8),
          noDelay: true,
          onread: useOnread ? { buffer: landing, callback: (n, b) => void client.write(Buffer.from(b.subarray(0, n))) } : undefined,
        });
        upstream.on('error', () => {
          upstream.destroy();
          client.destroy();
        });
        upstream.on('connect', () => {
          client.write(REPLY);
          const rest = req.subarray(10);
          if (rest.length) upstream.write(rest);
          if (!useOnread) upstream.on('data', (d) => client.write(d));
          client.on('data', (d) => upstream.write(d));
          upstream.on('end', () => client.end());
          client.on('end', () => upstream.end());
          upstream.on('close', () => client.destroy());
          client.on('close', () => upstream.destroy());
          client.resume();
        });
      });
    });
  })
  .listen(port, '127.0.0.1');
