#!/usr/bin/env node
// New connections per second through a SOCKS5 proxy (or direct): connect,
// SOCKS5 handshake, small GET, read to close. Also time-to-first-byte per
// connection. Plain JS, raw sockets, so the load generator stays lean.
//
//   node bench/connrate.js --target 127.0.0.1:18080 [--proxy 127.0.0.1:1080] [--concurrency 32] [--seconds 5] [--path /small]
'use strict';
const net = require('node:net');

const args = Object.fromEntries(process.argv.slice(2).reduce((acc, v, i, a) => (v.startsWith('--') ? [...acc, [v.slice(2), a[i + 1]]] : acc), []));
const [thost, tport] = args.target.split(':');
const proxy = args.proxy ? args.proxy.split(':') : undefined;
const concurrency = Number(args.concurrency ?? 32);
const seconds = Number(args.seconds ?? 5);
const path = args.path ?? '/small';
const request = Buffer.from(`GET ${path} HTTP/1.1\r\nHost: ${thost}\r\nConnection: close\r\n\r\n`);
const socksRequest = Buffer.from([5, 1, 0, 1, ...thost.split('.').map(Number), Number(tport) >> 8, Number(tport) & 255]);

function once() {
  return new Promise((resolve, reject) => {
    const started = process.hrtime.bigint();
    let firstByte = 0n;
    let stage = proxy ? 0 : 2;
    let pending = 0;
    const s = net.connect(proxy ? Number(proxy[1]) : Number(tport), proxy ? proxy[0] : thost);
    s.setNoDelay(true);
    s.on('connect', () => {
      if (proxy) {
        s.write(Buffer.from([5, 1, 0]));
        pending = 2;
      } else s.write(request);
    });
    s.on('data', (d) => {
      if (stage === 0) {
        if (d[0] !== 5 || d[1] !== 0) return reject(new Error('greeting refused'));
        stage = 1;
        pending = 10;
        s.write(socksRequest);
        return;
      }
      if (stage === 1) {
        if (d[1] !== 0) return reject(new Error(`reply ${d[1]}`));
        stage = 2;
        const rest = d.subarray(pending);
        s.write(request);
        if (rest.length === 0) return;
        d = rest;
      }
      if (firstByte === 0n) firstByte = process.hrtime.bigint();
    });
    s.on('error', reject);
    s.on('close', () => (firstByte ? resolve(Number(firstByte - started) / 1e6) : reject(new Error('closed before response'))));
  });
}

async function main() {
  const deadline = Date.now() + seconds * 1000;
  const latencies = [];
  let errors = 0;
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (Date.now() < deadline) {
        try {
          latencies.push(await once());
        } catch {
          errors++;
        }
      }
    }),
  );
  latencies.sort((a, b) => a - b);
  const p = (q) => latencies[Math.min(latencies.length - 1, Math.floor(q * latencies.length))] ?? NaN;
  // The load generator's own CPU time, to tell whether it (not the proxy) was the limit.
  const cpu = process.cpuUsage();
  console.log(
    JSON.stringify({
      concurrency,
      seconds,
      connections: latencies.length,
      errors,
      perSecond: latencies.length / seconds,
      p50: p(0.5),
      p99: p(0.99),
      cpuUserMs: cpu.user / 1000,
      cpuSystemMs: cpu.system / 1000,
    }),
  );
}
main();
