import type { Duplex } from 'node:stream';
import type { Disposable } from '../../api/disposable';
import { Emitter, type Event } from '../../api/event';
import type { Logger } from '../../api/logger';
import type { Rule } from '../../api/settings';
import { DEFAULT_LIMITS } from '../../kernel/defaults';
import { silentLogger } from '../../kernel/logger';
import {
  bandwidthJson,
  BOOSTER_EXTENSION,
  decodeTyped,
  DEFAULT_MAX_WIRE_STRING_BYTES,
  networkUpdateJson,
  nodeStatusJson,
  proxyUpdateJson,
  encodeJsonMessage,
  encodeMessage,
  fromMillis,
  MessageId,
  messageName,
  nodeId,
  PacketDecoder,
  fitLinkReport,
  tunnelId,
  WireError,
  type ReportedLink,
} from '../../wire';
import type { internal } from '../../wire/generated/booster';
import { normalizeHost } from './errors';
import { fitNodeStatus } from './node-status-fit';
import { toWireMessage, type ControlReply, type ControlRequest, type NodeStatusView, type SourceReport, type WireMessage } from './wire-message';

export type { NodeStatusView, ReceivedControl, WireMessage } from './wire-message';

export interface LinkLimits {
  /** Largest packet accepted (the decoder's cap on one unfinished packet). */
  readonly maxPacketBytes?: number;
  /** Bytes queued to a side that does not read before the link is dropped. */
  readonly maxBufferBytes?: number;
  /** Longest string one received field may hold (UTF-8 bytes); longer is a protocol error. */
  readonly maxStringBytes?: number;
}

const opCode = (op: 'added' | 'removed'): 1 | 2 => (op === 'added' ? 1 : 2);

/** A reason we send can echo what the other side sent (a 100 KB target, say): keep it well inside one module. */
const clipReason = (text: string): string => (text.length > 1000 ? `${text.slice(0, 1000)}…` : text);

/**
 * A booster link over any byte stream (TCP today, an encrypted transport
 * later): decodes packets into typed messages, encodes what we send. A
 * protocol error is reported once, with the peer's address, and closes the
 * stream; it never throws out of the data handler.
 */
export class ProtocolLink implements Disposable {
  private readonly decoder: PacketDecoder;
  private readonly maxBufferBytes: number;
  private readonly maxStringBytes: number;
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
    this.maxStringBytes = limits.maxStringBytes ?? DEFAULT_MAX_WIRE_STRING_BYTES;
    this.listeners = [
      ['data', (chunk: Buffer) => this.onData(chunk)],
      [
        'end',
        () => {
          try {
            this.decoder.end();
            this.finish('closed by the other side');
          } catch (err) {
            this.protocolError(err as Error);
          }
        },
      ],
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
    if (this.peerExtended) this.send(MessageId.RESULT, { code, message: clipReason(message) });
  }
  sendControl(request: ControlRequest): void {
    const payload: internal.PayloadControlRequest.$Properties = { op: request.op, rulesOffset: request.rulesOffset ?? 0 };
    if ('policy' in request) payload.policy = request.policy;
    // The CLI checked the rule (validateRule) before asking; the node checks it again on arrival.
    if ('rule' in request && request.rule) payload.rule = toWireRule(request.rule as Rule);
    if ('index' in request) payload.index = request.index;
    if ('target' in request) payload.target = request.target;
    if ('name' in request && request.name) payload.name = request.name;
    if ('transient' in request && request.transient) payload.transient = true;
    this.send(MessageId.CONTROL_REQUEST, payload);
  }
  sendControlReply(reply: ControlReply): void {
    if (!this.peerExtended) return;
    const payload = (r: ControlReply) => ({
      ok: r.ok,
      error: r.error ?? '',
      message: r.message ?? '',
      policy: r.policy,
      available: [...r.available],
      rules: r.rules.map(toWireRule),
      faults: r.faults,
      rulesOffset: r.rulesOffset,
      rulesTotal: r.rulesTotal,
      sources: (r.sources ?? []).map(toWireSource),
      sourcesTotal: r.sourcesTotal ?? 0,
      peer: r.peer ? toPayloadNode(r.peer) : undefined,
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
    if (this.peerExtended)
      this.send(MessageId.SOURCE_HEALTH, {
        id: e.id,
        kind: e.kind,
        label: e.label,
        health: e.health,
        reason: clipReason(e.reason),
      });
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

  /**
   * Every packet goes out here. What the socket has not taken yet stays in
   * memory, so the queue is capped: a packet that would take it past
   * maxBufferBytes drops the link (one packet always fits into an empty queue).
   */
  private write(buf: Buffer): void {
    if (this.isClosed || this.stream.destroyed) return;
    const queued = this.stream.writableLength;
    if (queued > 0 && queued + buf.length > this.maxBufferBytes) {
      // A side that does not read (a stalled monitor client) must not grow our memory without bound.
      this.log.warn(`${this.label} is not reading: ${queued} bytes queued (limits.maxLinkBufferBytes ${this.maxBufferBytes}); dropping the link`);
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
        const decoded = decodeTyped(packet, { maxStringBytes: this.maxStringBytes });
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

/** A NodeStatus that always encodes: a node with more targets than fit lists its busiest (see fitNodeStatus). */
export function toPayloadNode(node: NodeStatusView): internal.PayloadNode.$Properties {
  const n = fitNodeStatus(node, 'protobuf').node;
  return {
    id: n.id,
    baddr: n.baddr,
    paddr: n.paddr,
    active: n.active,
    tunnels: n.tunnels.map((t) => ({ id: tunnelId(t.target), target: t.target, copies: t.copies })),
  };
}

function toWireRule(r: Rule): internal.Rule.$Properties {
  return { type: r.type, source: 'source' in r ? r.source : '', hosts: 'hosts' in r && r.hosts ? [...r.hosts] : [], ttlMs: r.type === 'sticky' ? r.ttlMs : 0 };
}

function toWireSource(s: SourceReport): internal.Source.$Properties {
  const whole = (n: number | undefined) => Math.round(n ?? 0);
  return {
    id: s.id,
    kind: s.kind,
    label: s.label,
    address: s.address,
    state: s.state,
    reason: s.reason,
    capacitySource: s.capacitySource,
    note: s.note ?? '',
    ejectedForMs: whole(s.ejectedForMs),
    stateForMs: whole(s.stateForMs),
    openTunnels: whole(s.openTunnels),
    pendingDials: whole(s.pendingDials),
    load: whole(s.load),
    workload: whole(s.workload),
    throughputUp: whole(s.throughputUp),
    throughputDown: whole(s.throughputDown),
    capacity: whole(s.capacity),
    connectLatencyMs: whole(s.connectLatencyMs),
    recentFailures: whole(s.recentFailures),
    consecutiveFailures: whole(s.consecutiveFailures),
    totalTunnels: whole(s.totalTunnels),
    bytesUp: whole(s.bytesUp),
    bytesDown: whole(s.bytesDown),
    rank: whole(s.rank),
    score: s.score ?? 0,
  };
}
