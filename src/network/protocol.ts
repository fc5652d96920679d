import type { Duplex } from 'node:stream';
import type { Disposable } from '../api/disposable';
import { Emitter, type Event } from '../api/event';
import type { Logger } from '../api/logger';
import type { Rule } from '../api/settings';
import type { Transport, TransportAddress } from '../api/transport';
import { DEFAULT_LIMITS } from '../core/config';
import { silentLogger } from '../core/logger';
import {
  bandwidthJson, BOOSTER_EXTENSION, decodeMessage, networkUpdateJson, nodeStatusJson, proxyUpdateJson, encodeJsonMessage, encodeMessage, fromMillis, MessageId, messageName,
  nodeId, PacketDecoder, fitLinkReport, readLinkReport, toMillis, tunnelId, WireError, type Message, type ReportedLink,
} from '../wire';
import type { ControlReply, ControlRequest } from './control';
import type { SourceReport } from './source-report';
import { formatHostPort, normalizeHost, PeerError } from './errors';
import type { Beat } from './heartbeat';
import { fitNodeStatus } from './node-status-fit';

/** A node as NodeStatus describes it. */
export interface NodeStatusView {
  readonly id: string;
  readonly baddr: string;
  readonly paddr: string;
  readonly active: boolean;
  readonly tunnels: readonly { readonly target: string; readonly copies: number }[];
}

/** Messages as the network layer handles them, decoded from either encoding. */
export type WireMessage =
  | { readonly kind: 'hello'; readonly bport: number; readonly pport: number }
  | { readonly kind: 'connect'; readonly target: string }
  | { readonly kind: 'disconnect'; readonly id: string }
  | { readonly kind: 'heartbeat'; readonly beat: Beat }
  | { readonly kind: 'notify' }
  | { readonly kind: 'monitor'; readonly feature: 'node' | 'net' | number }
  | { readonly kind: 'ctrl'; readonly operation: 'stop' | 'restart' | number }
  | { readonly kind: 'node-status'; readonly node: NodeStatusView }
  | { readonly kind: 'proxy-update'; readonly target: string; readonly operation: 'added' | 'removed'; readonly nodeId: string }
  | { readonly kind: 'network-update'; readonly operation: 'added' | 'removed'; readonly node: NodeStatusView; readonly nodeId: string }
  | { readonly kind: 'bandwidth'; readonly nodeId: string; readonly type: string; readonly tot: number; readonly bandwidth: number }
  | { readonly kind: 'result'; readonly code: number; readonly message: string }
  | { readonly kind: 'control'; readonly request: ControlRequest }
  | { readonly kind: 'control-reply'; readonly reply: ControlReply }
  | { readonly kind: 'start-tls' }
  | { readonly kind: 'auth-init'; readonly nonce: Buffer; readonly role: string }
  | { readonly kind: 'auth-challenge'; readonly nonce: Buffer; readonly proof: Buffer }
  | { readonly kind: 'auth-proof'; readonly proof: Buffer }
  | { readonly kind: 'link-report'; readonly links: readonly ReportedLink[] }
  | { readonly kind: 'source-health'; readonly id: string; readonly sourceKind: string; readonly label: string; readonly health: string; readonly reason: string };

export interface LinkLimits {
  /** Largest packet accepted (the decoder's cap on one unfinished packet). */
  readonly maxPacketBytes?: number;
  /** Bytes queued to a side that does not read before the link is dropped. */
  readonly maxBufferBytes?: number;
}

const OPS = { 1: 'added', 2: 'removed' } as const;
const opCode = (op: 'added' | 'removed'): 1 | 2 => (op === 'added' ? 1 : 2);

/**
 * A booster link over any byte stream (TCP today, an encrypted transport
 * later): decodes packets into typed messages, encodes what we send. A
 * protocol error is reported once, with the peer's address, and closes the
 * stream; it never throws out of the data handler.
 */
export class ProtocolLink implements Disposable {
  private readonly decoder: PacketDecoder;
  private readonly maxBufferBytes: number;
  private released = false;
  private readonly messages = new Emitter<WireMessage>();
  private readonly closed = new Emitter<string>();
  private closing = false;
  private closeReason = '';
  private ended = false;
  /** The other side announced booster's extensions. */
  peerExtended = false;
  readonly onMessage: Event<WireMessage> = this.messages.event;
  readonly onClose: Event<string> = (listener) => {
    if (this.ended) {
      queueMicrotask(() => listener(this.closeReason));
      return { dispose: () => undefined };
    }
    return this.closed.event(listener);
  };

  private readonly listeners: [string, Parameters<Duplex['on']>[1]][];

  constructor(
    private readonly stream: Duplex,
    readonly label: string,
    private readonly log: Logger = silentLogger,
    limits: LinkLimits = {},
  ) {
    this.decoder = new PacketDecoder({ maxPacketBytes: limits.maxPacketBytes });
    this.maxBufferBytes = limits.maxBufferBytes ?? DEFAULT_LIMITS.maxLinkBufferBytes;
    this.listeners = [
      ['data', (chunk: Buffer) => this.onData(chunk)],
      ['end', () => {
        try {
          this.decoder.end();
          this.finish('closed by the other side');
        } catch (err) {
          this.protocolError(err as Error);
        }
      }],
      ['error', (err: Error) => this.finish(`stream error: ${(err as NodeJS.ErrnoException).code ?? err.message}`)],
      ['close', () => this.finish(this.closeReason || 'closed')],
    ];
    for (const [event, fn] of this.listeners) stream.on(event, fn);
  }

  /** The largest packet this link accepts; raised once the other side has authenticated. */
  get maxPacketBytes(): number {
    return this.decoder.maxPacketBytes;
  }
  set maxPacketBytes(n: number) {
    this.decoder.maxPacketBytes = n;
  }

  /** The underlying stream (for the TLS channel binding). */
  get transportStream(): Duplex {
    return this.stream;
  }

  /**
   * Hands the raw stream over (to run TLS on it after StartTls): this link
   * stops reading, fires nothing more, and must not be used again. Fails if
   * bytes of a further packet already arrived (the other side broke the
   * StartTls rule of sending nothing until the go-ahead).
   */
  release(): Duplex {
    if (this.decoder.pending > 0) throw new WireError(`${this.decoder.pending} bytes arrived after StartTls, before the TLS handshake`);
    this.released = true;
    this.ended = true;
    for (const [event, fn] of this.listeners) this.stream.off(event, fn);
    this.stream.pause();
    this.closed.dispose();
    this.messages.dispose();
    return this.stream;
  }

  get localHost(): string | undefined {
    const addr = (this.stream as { localAddress?: string }).localAddress;
    return addr ? normalizeHost(addr) : undefined;
  }

  get remoteHost(): string | undefined {
    const addr = (this.stream as { remoteAddress?: string }).remoteAddress;
    return addr ? normalizeHost(addr) : undefined;
  }

  get isClosed(): boolean {
    return this.ended || this.closing;
  }

  /** Flushes what was sent, then closes. */
  close(reason = 'closed by this node'): void {
    if (this.closing || this.ended) return;
    this.closing = true;
    this.closeReason ||= reason;
    this.stream.end();
    const t = setTimeout(() => this.stream.destroy(), 1000);
    t.unref();
  }

  dispose(): void {
    this.close();
  }

  // ---- sending ----

  sendHello(bport: number, pport: number): void {
    this.send(MessageId.HELLO, { bport: String(bport), pport: String(pport) });
  }
  sendConnect(target: string): void {
    this.send(MessageId.CONNECT, { target });
  }
  sendDisconnect(id: string): void {
    this.send(MessageId.DISCONNECT, { id });
  }
  sendNotify(): void {
    this.send(MessageId.NOTIFY);
  }
  /** booster.v1: asks for (client) or allows (server) the TLS upgrade of this link. */
  sendStartTls(): void {
    this.send(MessageId.START_TLS);
  }
  sendAuthInit(nonce: Buffer, role: string): void {
    this.send(MessageId.AUTH_INIT, { nonce, role });
  }
  sendAuthChallenge(nonce: Buffer, proof: Buffer): void {
    this.send(MessageId.AUTH_CHALLENGE, { nonce, proof });
  }
  sendAuthProof(proof: Buffer): void {
    this.send(MessageId.AUTH_PROOF, { proof });
  }
  /** booster.v1: this node's own links. Only sent to a side that announced extensions. */
  sendLinkReport(links: readonly ReportedLink[]): void {
    if (this.peerExtended) this.send(MessageId.LINK_REPORT, { links: fitLinkReport(links) });
  }
  sendHeartbeat(beat: { hops: number; ttl: number }): void {
    this.send(MessageId.HEARTBEAT, { id: 'heartbeat', hops: beat.hops, ttl: fromMillis(beat.ttl) });
  }
  sendMonitor(feature: 'node' | 'net'): void {
    this.send(MessageId.MONITOR, { feature: feature === 'node' ? 1 : 2 });
  }
  sendCtrl(operation: 'stop' | 'restart'): void {
    this.send(MessageId.CTRL, { operation: operation === 'stop' ? 1 : 2 });
  }
  sendNodeStatus(node: NodeStatusView): void {
    this.send(MessageId.NODE_STATUS, toPayloadNode(node));
  }
  sendProxyUpdate(target: string, operation: 'added' | 'removed', nodeID: string): void {
    this.send(MessageId.PROXY_UPDATE, { target, operation: opCode(operation), nodeID });
  }
  /** Booster extension: the outcome of a request. Only sent to a side that announced extensions. */
  sendResult(code: number, message: string): void {
    // A reason can echo what the other side sent (a 100 KB target, say): keep it well inside one module.
    if (this.peerExtended) this.send(MessageId.RESULT, { code, message: message.length > 1000 ? `${message.slice(0, 1000)}…` : message });
  }
  sendControl(request: ControlRequest): void {
    const r = request as { op: string; policy?: string; rule?: Rule; index?: number; rulesOffset?: number };
    this.send(MessageId.CONTROL_REQUEST, { op: r.op, policy: r.policy ?? '', rule: r.rule ? toWireRule(r.rule) : undefined, index: r.index ?? 0, rulesOffset: r.rulesOffset ?? 0 });
  }
  sendControlReply(reply: ControlReply): void {
    if (!this.peerExtended) return;
    const payload = (r: ControlReply) => ({
      ok: r.ok, error: r.error ?? '', message: r.message ?? '', policy: r.policy,
      available: [...r.available], rules: r.rules.map(toWireRule), faults: r.faults, rulesOffset: r.rulesOffset, rulesTotal: r.rulesTotal,
      sources: (r.sources ?? []).map(toWireSource), sourcesTotal: r.sourcesTotal ?? 0,
    });
    let packet: Buffer;
    try {
      packet = encodeMessage(MessageId.CONTROL_REPLY, payload(reply), { extensions: [BOOSTER_EXTENSION] });
    } catch (err) {
      // ControlHandler pages the rules to fit; this only keeps an estimate gone wrong from throwing here.
      this.log.warn(`control reply to ${this.label} does not fit in one packet (${(err as Error).message}); sent an error instead`);
      const error = 'the reply did not fit in one packet (a bug in the node; please report it)';
      this.send(MessageId.CONTROL_REPLY, payload({ ...reply, ok: false, error, message: undefined, rules: [], sources: [] }));
      return;
    }
    this.write(packet);
  }

  /** Booster extension (monitor feature node): a source's health changed. Only sent to a side that announced extensions. */
  sendSourceHealth(e: { id: string; kind: string; label: string; health: string; reason: string }): void {
    if (this.peerExtended) this.send(MessageId.SOURCE_HEALTH, { id: e.id, kind: e.kind, label: e.label, health: e.health, reason: e.reason.length > 1000 ? `${e.reason.slice(0, 1000)}…` : e.reason });
  }

  // JSON monitor packets, byte-compatible with 0.3 (key order matters to some readers).
  sendNodeStatusJson(node: NodeStatusView): void {
    this.write(encodeJsonMessage(MessageId.NODE_STATUS, nodeStatusJson(node)));
  }
  sendProxyUpdateJson(nodeID: string, target: string, operation: 'added' | 'removed'): void {
    this.write(encodeJsonMessage(MessageId.PROXY_UPDATE, proxyUpdateJson(nodeID, target, opCode(operation))));
  }
  sendNetworkUpdateJson(nodeID: string, operation: 'added' | 'removed', remote: NodeStatusView): void {
    this.write(encodeJsonMessage(MessageId.NETWORK_UPDATE, networkUpdateJson(nodeID, opCode(operation), remote)));
  }
  sendBandwidthJson(senderID: string, type: 'download' | 'upload', tot: number, bandwidth: number): void {
    this.write(encodeJsonMessage(MessageId.NETWORK_USAGE_UPDATE, bandwidthJson(senderID, type, tot, bandwidth)));
  }

  private send(id: MessageId, payload?: object): void {
    let packet: Buffer;
    try {
      packet = encodeMessage(id, payload, { extensions: [BOOSTER_EXTENSION] });
    } catch (err) {
      // Never throw out of a send path: a message that cannot be framed is a bug to log, not a crash.
      this.log.error(`cannot send ${messageName(id)} to ${this.label}: ${(err as Error).message}; closing the link`);
      this.close(`could not encode ${messageName(id)}`);
      return;
    }
    this.write(packet);
  }

  private write(buf: Buffer): void {
    if (this.isClosed || this.stream.destroyed) return;
    if (this.stream.writableLength > this.maxBufferBytes) {
      // A side that does not read (a stalled monitor client) must not grow our memory without bound.
      this.log.warn(`${this.label} is not reading: ${this.stream.writableLength} bytes queued (limits.maxLinkBufferBytes ${this.maxBufferBytes}); dropping the link`);
      this.closeReason = 'not reading (send buffer full)';
      this.stream.destroy();
      this.finish(this.closeReason);
      return;
    }
    this.stream.write(buf);
  }

  // ---- receiving ----

  private onData(chunk: Buffer): void {
    if (this.ended) return;
    let packets;
    try {
      packets = this.decoder.push(chunk);
    } catch (err) {
      this.protocolError(err as Error);
      return;
    }
    for (const packet of packets) {
      let message: WireMessage;
      try {
        const decoded = decodeMessage(packet);
        if (decoded.header.extensions.includes(BOOSTER_EXTENSION)) this.peerExtended = true;
        message = toWireMessage(decoded);
      } catch (err) {
        // A payload of the wrong shape (a JSON field of the wrong type) is a protocol error like any other.
        this.protocolError(err instanceof WireError ? err : new WireError(`a message of the wrong shape (${(err as Error).message})`));
        return;
      }
      this.messages.fire(message);
      if (this.ended) return;
    }
  }

  private protocolError(err: Error): void {
    const message = `${this.label} sent a bad packet: ${err.message}; closing the link`;
    this.log.warn(message);
    this.closeReason = `protocol error: ${err.message}`;
    this.stream.destroy();
    this.finish(this.closeReason);
  }

  private finish(reason: string): void {
    if (this.ended || this.released) return;
    this.ended = true;
    this.closeReason ||= reason;
    this.stream.destroy();
    this.closed.fire(this.closeReason);
    this.closed.dispose();
    this.messages.dispose();
  }
}

export function nodeIdOf(host: string, bport: number, pport: number): string {
  return nodeId(host, bport, pport);
}

function toWireMessage(m: Message): WireMessage {
  const p = (m.payload ?? {}) as Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any
  const id = m.header.id;
  switch (id) {
    case MessageId.HELLO: {
      const bport = Number(p.bport);
      const pport = Number(p.pport);
      if (!isPort(bport) || !isPort(pport)) throw new WireError(`Hello carries invalid ports bport=${JSON.stringify(p.bport)} pport=${JSON.stringify(p.pport)}`);
      return { kind: 'hello', bport, pport };
    }
    case MessageId.CONNECT:
      if (!p.target) throw new WireError('Connect carries no target');
      return { kind: 'connect', target: String(p.target) };
    case MessageId.DISCONNECT:
      return { kind: 'disconnect', id: String(p.id ?? '') };
    case MessageId.HEARTBEAT:
      if (!p.ttl) throw new WireError('Heartbeat carries no ttl');
      return { kind: 'heartbeat', beat: { hops: Number(p.hops ?? 0), ttl: toMillis(p.ttl), sentAt: m.header.sentAt } };
    case MessageId.NOTIFY:
      return { kind: 'notify' };
    case MessageId.MONITOR:
      return { kind: 'monitor', feature: p.feature === 1 ? 'node' : p.feature === 2 ? 'net' : Number(p.feature) };
    case MessageId.CTRL:
      return { kind: 'ctrl', operation: p.operation === 1 ? 'stop' : p.operation === 2 ? 'restart' : Number(p.operation) };
    case MessageId.NODE_STATUS:
      return { kind: 'node-status', node: fromNode(p) };
    case MessageId.PROXY_UPDATE:
      return { kind: 'proxy-update', target: String(p.target ?? ''), operation: op(p.operation), nodeId: String(p.nodeID ?? p.node_id ?? '') };
    case MessageId.NETWORK_UPDATE:
      return { kind: 'network-update', operation: op(p.operation), node: fromNode(p.remoteNode ?? p.remote_node ?? {}), nodeId: String(p.nodeID ?? p.node_id ?? '') };
    case MessageId.NETWORK_USAGE_UPDATE: {
      const data = p.data ?? p;
      return { kind: 'bandwidth', nodeId: String(p.sender_id ?? p.nodeID ?? ''), type: String(data.type ?? ''), tot: Number(data.tot ?? 0), bandwidth: Number(data.bandwidth ?? 0) };
    }
    case MessageId.START_TLS:
      return { kind: 'start-tls' };
    case MessageId.AUTH_INIT:
      return { kind: 'auth-init', nonce: bytesOf(p.nonce), role: String(p.role ?? '') };
    case MessageId.AUTH_CHALLENGE:
      return { kind: 'auth-challenge', nonce: bytesOf(p.nonce), proof: bytesOf(p.proof) };
    case MessageId.AUTH_PROOF:
      return { kind: 'auth-proof', proof: bytesOf(p.proof) };
    case MessageId.LINK_REPORT:
      return { kind: 'link-report', links: readLinkReport(p) };
    case MessageId.RESULT:
      return { kind: 'result', code: Number(p.code ?? 0), message: String(p.message ?? '') };
    case MessageId.CONTROL_REQUEST:
      return { kind: 'control', request: fromWireControl(p) };
    case MessageId.CONTROL_REPLY:
      return {
        kind: 'control-reply',
        reply: {
          ok: Boolean(p.ok), error: p.error || undefined, message: p.message || undefined, policy: String(p.policy ?? ''),
          available: p.available ?? [], rules: (p.rules ?? []).map(fromWireRule), faults: Object.fromEntries(Object.entries(p.faults ?? {}).map(([k, v]) => [k, Number(v)])),
          rulesOffset: Number(p.rulesOffset ?? 0), rulesTotal: Number(p.rulesTotal ?? 0),
          // Only a node that knows op "sources" fills them in (it has at least one source).
          ...(p.sourcesTotal ? { sources: (p.sources ?? []).map(fromWireSource), sourcesTotal: Number(p.sourcesTotal) } : {}),
        },
      };
    case MessageId.SOURCE_HEALTH:
      return { kind: 'source-health', id: String(p.id ?? ''), sourceKind: String(p.kind ?? ''), label: String(p.label ?? ''), health: String(p.health ?? ''), reason: String(p.reason ?? '') };
    default:
      throw new WireError(`unexpected message ${messageName(id)}`);
  }
}

function op(v: unknown): 'added' | 'removed' {
  const r = OPS[v as 1 | 2];
  if (!r) throw new WireError(`operation must be 1 (added) or 2 (removed), got ${JSON.stringify(v)}`);
  return r;
}

function bytesOf(v: unknown): Buffer {
  return v instanceof Uint8Array ? Buffer.from(v) : Buffer.alloc(0);
}

function isPort(n: number): boolean {
  return Number.isInteger(n) && n > 0 && n <= 65535;
}

function fromNode(p: Record<string, any>): NodeStatusView { // eslint-disable-line @typescript-eslint/no-explicit-any
  return {
    id: String(p.id ?? ''),
    baddr: String(p.baddr ?? ''),
    paddr: String(p.paddr ?? ''),
    active: Boolean(p.active),
    tunnels: ((p.tunnels ?? []) as Record<string, unknown>[]).map((t) => ({ target: String(t.target ?? ''), copies: Number(t.copies ?? 0) })),
  };
}

/** A NodeStatus that always encodes: a node with more targets than fit lists its busiest (see fitNodeStatus). */
export function toPayloadNode(node: NodeStatusView): object {
  const n = fitNodeStatus(node, 'protobuf').node;
  return { id: n.id, baddr: n.baddr, paddr: n.paddr, active: n.active, tunnels: n.tunnels.map((t) => ({ id: tunnelId(t.target), target: t.target, copies: t.copies })) };
}

function toWireRule(r: Rule): object {
  return { type: r.type, source: 'source' in r ? r.source : '', hosts: 'hosts' in r && r.hosts ? [...r.hosts] : [], ttlMs: r.type === 'sticky' ? r.ttlMs : 0 };
}

function fromWireRule(w: Record<string, any>): Rule { // eslint-disable-line @typescript-eslint/no-explicit-any
  const hosts = (w.hosts ?? []) as string[];
  switch (w.type) {
    case 'sticky':
      return { type: 'sticky', ttlMs: Number(w.ttlMs), hosts: hosts.length ? hosts : undefined };
    case 'block':
      return { type: 'block', source: w.source };
    default:
      return { type: w.type, source: w.source, hosts } as Rule;
  }
}

function fromWireControl(p: Record<string, any>): ControlRequest { // eslint-disable-line @typescript-eslint/no-explicit-any
  const rulesOffset = Number(p.rulesOffset ?? 0);
  switch (p.op) {
    case 'use':
      return { op: 'use', policy: String(p.policy ?? ''), rulesOffset };
    case 'rules-add':
      return { op: 'rules-add', rule: p.rule ? fromWireRule(p.rule) : undefined, rulesOffset };
    case 'rules-remove':
      return { op: 'rules-remove', index: Number(p.index ?? -1), rulesOffset };
    case 'sources':
      return { op: 'sources', rulesOffset };
    default:
      return { op: 'status', rulesOffset };
  }
}

const SOURCE_NUMBERS = [
  'ejectedForMs', 'stateForMs', 'openTunnels', 'pendingDials', 'load', 'workload', 'throughputUp', 'throughputDown', 'capacity',
  'connectLatencyMs', 'recentFailures', 'consecutiveFailures', 'totalTunnels', 'bytesUp', 'bytesDown', 'rank', 'score',
] as const;
const SOURCE_STRINGS = ['id', 'kind', 'label', 'address', 'state', 'reason', 'capacitySource', 'note'] as const;

function toWireSource(s: SourceReport): object {
  const out: Record<string, unknown> = {};
  for (const k of SOURCE_STRINGS) out[k] = s[k] ?? '';
  for (const k of SOURCE_NUMBERS) out[k] = k === 'score' ? (s.score ?? 0) : Math.round(s[k] ?? 0);
  return out;
}

function fromWireSource(w: Record<string, any>): SourceReport { // eslint-disable-line @typescript-eslint/no-explicit-any
  const out: Record<string, unknown> = {};
  for (const k of SOURCE_STRINGS) out[k] = String(w[k] ?? '');
  for (const k of SOURCE_NUMBERS) out[k] = Number(w[k] ?? 0);
  if (!out.note) delete out.note;
  if (!out.rank) {
    delete out.rank;
    delete out.score;
  }
  return out as unknown as SourceReport;
}
