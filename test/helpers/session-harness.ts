import * as net from 'node:net';
import type { Limits } from '../../src/api/settings';
import type { CtrlOperation } from '../../src/network/sessions/endpoint';
import type { BoosterNode } from '../../src/core/node';
import { LimitLog } from '../../src/kernel/limit-log';
import { silentLogger } from '../../src/kernel/logger';
import { RefusalLog } from '../../src/kernel/refusal-log';
import type { Principal } from '../../src/network/sessions/access';
import { ControlHandler } from '../../src/network/control/control';
import { InboundSession } from '../../src/network/sessions/session';
import { Authenticator } from '../../src/security/auth';
import type { NetworkKey } from '../../src/security/key';
import { PskTls } from '../../src/security/tls';
import { TEST_KEY } from './key';

export interface SessionHarness {
  readonly port: number;
  /** ctrl operations the sessions asked for. */
  readonly ctrl: CtrlOperation[];
  close(): Promise<void>;
}

/**
 * Serves endpoint sessions of a real node on a port of its own, with the
 * principal a connection from `principal`'s address would get. Loopback is
 * the only address tests have without root, so this is how a stranger, a 0.3
 * peer or a LAN client is played in unit tests (test/security/stranger.test.ts
 * does it for real from a network namespace).
 */
export async function sessionHarness(
  node: BoosterNode,
  principal: Principal,
  options: { limits?: Partial<Limits>; key?: NetworkKey; tls?: boolean } = {},
): Promise<SessionHarness> {
  const key = options.key ?? TEST_KEY;
  const tls = new PskTls(key);
  const ctrl: CtrlOperation[] = [];
  const sessions = new Set<InboundSession>();
  const services = {
    network: node.network,
    tunnels: node.tunnels,
    sources: node.sources,
    events: node.events,
    heartbeatMs: node.settings.heartbeatMs,
    identity: { id: node.id, bport: node.endpointAddress.port, pport: node.proxyAddress.port },
    control: new ControlHandler(node.policies, node.rules),
    ctrl: (op: CtrlOperation) => ctrl.push(op),
    log: silentLogger,
    limits: { ...node.settings.limits, ...options.limits },
    authenticator: new Authenticator(key),
    refusals: RefusalLog.warn(() => 'endpoint refusals', silentLogger, new LimitLog(silentLogger, 10_000), 10_000),
    secure: options.tls === false ? undefined : (s: import('node:stream').Duplex) => tls.server(s, 3000),
  };
  const server = net.createServer((socket) => {
    const session = new InboundSession(socket, `harness ${socket.remotePort}`, principal, services);
    sessions.add(session);
    session.onClose(() => sessions.delete(session));
    session.start();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    port: (server.address() as net.AddressInfo).port,
    ctrl,
    close: () => {
      for (const s of sessions) s.dispose();
      return new Promise((resolve) => server.close(() => resolve()));
    },
  };
}
