import type { Rule } from '../../api/settings';
import type { CapacitySource, SourceKind } from '../../api/sources';
import {
  decimalPort,
  finiteNumber,
  MessageId,
  messageName,
  readLinkReport,
  readTimestamp,
  WireError,
  wholeNumber,
  type ReportedLink,
  type TypedMessage,
} from '../../wire';
import type { internal } from '../../wire/generated/booster';
import type { Beat } from './heartbeat';

/** A node as NodeStatus describes it. */
export interface NodeStatusView {
  readonly id: string;
  readonly baddr: string;
  readonly paddr: string;
  readonly active: boolean;
  readonly tunnels: readonly { readonly target: string; readonly copies: number }[];
}

/**
 * A control request as received: a known op, or (`refused`) why it cannot be
 * one. The rule of rules-add stays unchecked data here: the control handler
 * validates it as it validates a config file's rules, and answers with the reason.
 */
export type ReceivedControl = { readonly request: ControlRequest; readonly refused?: undefined } | { readonly request?: undefined; readonly refused: string };

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
  | ({ readonly kind: 'control' } & ReceivedControl)
  | { readonly kind: 'control-reply'; readonly reply: ControlReply }
  | { readonly kind: 'start-tls' }
  | { readonly kind: 'auth-init'; readonly nonce: Buffer; readonly role: string }
  | { readonly kind: 'auth-challenge'; readonly nonce: Buffer; readonly proof: Buffer }
  | { readonly kind: 'auth-proof'; readonly proof: Buffer }
  | { readonly kind: 'link-report'; readonly links: readonly ReportedLink[] }
  | {
      readonly kind: 'source-health';
      readonly id: string;
      readonly sourceKind: string;
      readonly label: string;
      readonly health: string;
      readonly reason: string;
    };

const INT32_MAX = 0x7fffffff;

/** The control ops a node answers (ControlRequest); anything else is refused by name, never guessed at. */
const CONTROL_OPS = ['status', 'use', 'rules-add', 'rules-remove', 'sources', 'peer-add', 'peer-remove', 'reload'] as const;
const SOURCE_KINDS: readonly SourceKind[] = ['direct', 'interface', 'peer'];
const SOURCE_STATES: readonly SourceState[] = ['up', 'probing', 'ejected', 'down'];
const CAPACITY_SOURCES: readonly CapacitySource[] = ['measured', 'advertised', 'persisted', 'probe', 'unknown'];

/**
 * Reads a typed message into what the network layer handles, checking each
 * field: a value the protocol does not allow is a WireError (the link that
 * sent it is closed; the node keeps running).
 */
export function toWireMessage(m: TypedMessage): WireMessage {
  switch (m.id) {
    case MessageId.HELLO: {
      const bport = decimalPort(m.payload.bport);
      const pport = decimalPort(m.payload.pport);
      if (bport === undefined || pport === undefined)
        throw new WireError(`Hello carries invalid ports bport=${quote(m.payload.bport)} pport=${quote(m.payload.pport)}`);
      return { kind: 'hello', bport, pport };
    }
    case MessageId.CONNECT:
      if (!m.payload.target) throw new WireError('Connect carries no target');
      return { kind: 'connect', target: m.payload.target };
    case MessageId.DISCONNECT:
      return { kind: 'disconnect', id: m.payload.id };
    case MessageId.HEARTBEAT: {
      const { ttl } = m.payload;
      if (!ttl) throw new WireError('Heartbeat carries no ttl');
      const hops = wholeNumber(m.payload.hops, 'Heartbeat hops', 0, INT32_MAX);
      return { kind: 'heartbeat', beat: { hops, ttl: readTimestamp(ttl, 'Heartbeat ttl'), sentAt: m.header.sentAt } };
    }
    case MessageId.NOTIFY:
      return { kind: 'notify' };
    case MessageId.MONITOR: {
      // An unknown feature is kept as its number: the session refuses it by name and closes the link.
      const f = m.payload.feature;
      return { kind: 'monitor', feature: f === 1 ? 'node' : f === 2 ? 'net' : f };
    }
    case MessageId.CTRL: {
      const o = m.payload.operation;
      return { kind: 'ctrl', operation: o === 1 ? 'stop' : o === 2 ? 'restart' : o };
    }
    case MessageId.NODE_STATUS:
      return { kind: 'node-status', node: fromNode(m.payload, 'NodeStatus') };
    case MessageId.PROXY_UPDATE:
      return { kind: 'proxy-update', target: m.payload.target, operation: updateOp(m.payload.operation), nodeId: m.payload.nodeID };
    case MessageId.NETWORK_UPDATE:
      return {
        kind: 'network-update',
        operation: updateOp(m.payload.operation),
        node: fromNode(m.payload.remoteNode ?? {}, 'NetworkUpdate remoteNode'),
        nodeId: m.payload.nodeID,
      };
    case MessageId.NETWORK_USAGE_UPDATE: {
      const p = m.payload;
      return {
        kind: 'bandwidth',
        nodeId: p.nodeID,
        type: p.type,
        tot: wholeNumber(p.tot, 'NetworkUsageUpdate tot', 0),
        bandwidth: wholeNumber(p.bandwidth, 'NetworkUsageUpdate bandwidth'),
      };
    }
    case MessageId.START_TLS:
      return { kind: 'start-tls' };
    case MessageId.AUTH_INIT:
      return { kind: 'auth-init', nonce: Buffer.from(m.payload.nonce), role: m.payload.role };
    case MessageId.AUTH_CHALLENGE:
      return { kind: 'auth-challenge', nonce: Buffer.from(m.payload.nonce), proof: Buffer.from(m.payload.proof) };
    case MessageId.AUTH_PROOF:
      return { kind: 'auth-proof', proof: Buffer.from(m.payload.proof) };
    case MessageId.LINK_REPORT:
      return { kind: 'link-report', links: readLinkReport(m.payload) };
    case MessageId.RESULT:
      return { kind: 'result', code: m.payload.code, message: m.payload.message };
    case MessageId.CONTROL_REQUEST:
      return { kind: 'control', ...fromWireControl(m.payload) };
    case MessageId.CONTROL_REPLY:
      return { kind: 'control-reply', reply: fromWireReply(m.payload) };
    case MessageId.SOURCE_HEALTH: {
      const p = m.payload;
      return { kind: 'source-health', id: p.id, sourceKind: p.kind, label: p.label, health: p.health, reason: p.reason };
    }
    default:
      throw new WireError(`unexpected message ${messageName((m as { id: number }).id)}`);
  }
}

function quote(s: string): string {
  return JSON.stringify(s.length > 20 ? `${s.slice(0, 20)}…` : s);
}

function updateOp(v: number): 'added' | 'removed' {
  if (v === 1) return 'added';
  if (v === 2) return 'removed';
  throw new WireError(`operation must be 1 (added) or 2 (removed), got ${v}`);
}

function fromNode(p: internal.PayloadNode.$Properties, what: string): NodeStatusView {
  return {
    id: p.id ?? '',
    baddr: p.baddr ?? '',
    paddr: p.paddr ?? '',
    active: p.active ?? false,
    tunnels: (p.tunnels ?? []).map((t, i) => ({ target: t.target ?? '', copies: wholeNumber(t.copies ?? 0, `${what} tunnel ${i} copies`, 0, INT32_MAX) })),
  };
}

/** A rule as sent, for the control handler to validate; proto3 defaults ("" and []) read as absent. */
function fromWireRule(w: internal.Rule.$Properties): Record<string, unknown> {
  const rule: Record<string, unknown> = { type: w.type ?? '' };
  if (w.source) rule.source = w.source;
  if (w.hosts?.length) rule.hosts = [...w.hosts];
  // int64 arrives as a Long (a zero Long is still a truthy object): the handler checks the number itself.
  const ttlMs = Number(w.ttlMs ?? 0);
  if (ttlMs !== 0) rule.ttlMs = ttlMs;
  return rule;
}

function fromWireControl(p: internal.PayloadControlRequest): ReceivedControl {
  const { rulesOffset, transient } = p;
  const op = (CONTROL_OPS as readonly string[]).includes(p.op) ? (p.op as (typeof CONTROL_OPS)[number]) : undefined;
  switch (op) {
    case 'status':
      return { request: { op: 'status', rulesOffset } };
    case 'use':
      return { request: { op: 'use', policy: p.policy, transient, rulesOffset } };
    case 'rules-add':
      return { request: { op: 'rules-add', rule: p.rule ? fromWireRule(p.rule) : undefined, transient, rulesOffset } };
    case 'rules-remove':
      return { request: { op: 'rules-remove', index: p.index, transient, rulesOffset } };
    case 'sources':
      return { request: { op: 'sources', rulesOffset } };
    case 'peer-add':
      return { request: { op: 'peer-add', target: p.target, name: p.name || undefined, transient, rulesOffset } };
    case 'peer-remove':
      return { request: { op: 'peer-remove', target: p.target, transient, rulesOffset } };
    case 'reload':
      return { request: { op: 'reload', rulesOffset } };
    case undefined:
      return {
        refused: p.op
          ? `unknown control operation ${quote(p.op)} (known: ${CONTROL_OPS.join(', ')})`
          : `the control request names no operation (known: ${CONTROL_OPS.join(', ')})`,
      };
  }
}

function fromWireReply(p: internal.PayloadControlReply): ControlReply {
  const faults: Record<string, number> = {};
  for (const [k, v] of Object.entries(p.faults)) faults[k] = wholeNumber(v, `ControlReply fault count of ${quote(k)}`, 0);
  return {
    ok: p.ok,
    error: p.error || undefined,
    message: p.message || undefined,
    policy: p.policy,
    available: p.available,
    faults,
    rules: p.rules.map(fromReplyRule),
    rulesOffset: wholeNumber(p.rulesOffset, 'ControlReply rulesOffset', 0),
    rulesTotal: wholeNumber(p.rulesTotal, 'ControlReply rulesTotal', 0),
    // Only a node that knows op "sources" fills them in (it has at least one source).
    ...(p.sourcesTotal ? { sources: p.sources.map(fromWireSource), sourcesTotal: wholeNumber(p.sourcesTotal, 'ControlReply sourcesTotal', 0) } : {}),
    // Ops peer-add and peer-remove: the peer concerned.
    ...(p.peer ? { peer: fromNode(p.peer, 'ControlReply peer') } : {}),
  };
}

/** A rule a node lists: it validated it when it took it, so a malformed one is the node misbehaving. */
function fromReplyRule(w: internal.Rule.$Properties, i: number): ControlReply['rules'][number] {
  const hosts = w.hosts ?? [];
  const source = w.source ?? '';
  switch (w.type) {
    case 'sticky':
      return { type: 'sticky', ttlMs: wholeNumber(w.ttlMs ?? 0, `ControlReply rule ${i} ttlMs`, 1), hosts: hosts.length ? hosts : undefined };
    case 'block':
      return { type: 'block', source };
    case 'reserve':
    case 'avoid':
      return { type: w.type, source, hosts };
    default:
      throw new WireError(`ControlReply rule ${i} has unknown type ${quote(w.type ?? '')}`);
  }
}

function oneOf<T extends string>(v: string | null | undefined, allowed: readonly T[], what: string): T {
  if ((allowed as readonly string[]).includes(v ?? '')) return v as T;
  throw new WireError(`${what} is ${quote(v ?? '')} (one of ${allowed.join(', ')})`);
}

function fromWireSource(w: internal.Source.$Properties, i: number): SourceReport {
  const what = `ControlReply source ${i}`;
  const n = (v: number | null | undefined, field: string) => wholeNumber(v ?? 0, `${what} ${field}`, 0);
  const report: SourceReport = {
    id: w.id ?? '',
    kind: oneOf(w.kind, SOURCE_KINDS, `${what} kind`),
    label: w.label ?? '',
    address: w.address ?? '',
    state: oneOf(w.state, SOURCE_STATES, `${what} state`),
    reason: w.reason ?? '',
    ejectedForMs: n(w.ejectedForMs, 'ejectedForMs'),
    stateForMs: n(w.stateForMs, 'stateForMs'),
    openTunnels: n(w.openTunnels, 'openTunnels'),
    pendingDials: n(w.pendingDials, 'pendingDials'),
    load: n(w.load, 'load'),
    workload: n(w.workload, 'workload'),
    throughputUp: n(w.throughputUp, 'throughputUp'),
    throughputDown: n(w.throughputDown, 'throughputDown'),
    capacity: n(w.capacity, 'capacity'),
    capacitySource: oneOf(w.capacitySource, CAPACITY_SOURCES, `${what} capacitySource`),
    connectLatencyMs: n(w.connectLatencyMs, 'connectLatencyMs'),
    recentFailures: n(w.recentFailures, 'recentFailures'),
    consecutiveFailures: n(w.consecutiveFailures, 'consecutiveFailures'),
    totalTunnels: n(w.totalTunnels, 'totalTunnels'),
    bytesUp: n(w.bytesUp, 'bytesUp'),
    bytesDown: n(w.bytesDown, 'bytesDown'),
  };
  // rank 0: the policy exposes no preference (no score either); note "": none.
  const rank = n(w.rank, 'rank');
  return {
    ...report,
    ...(rank ? { rank, score: finiteNumber(w.score ?? 0, `${what} score`) } : {}),
    ...(w.note ? { note: w.note } : {}),
  };
}

// Control requests and replies, and the source reports they carry: the control
// plane (src/network/control) builds them, the CLI reads them, the link carries them.

/** `transient`: change the running node only, not its state file. */
export type ControlOperation =
  | { readonly op: 'status' }
  | { readonly op: 'use'; readonly policy: string; readonly transient?: boolean }
  | { readonly op: 'rules-add'; readonly rule: unknown; readonly transient?: boolean }
  | { readonly op: 'rules-remove'; readonly index: number; readonly transient?: boolean }
  | { readonly op: 'peer-add'; readonly target: string; readonly name?: string; readonly transient?: boolean }
  | { readonly op: 'peer-remove'; readonly target: string; readonly transient?: boolean }
  | { readonly op: 'reload' }
  | { readonly op: 'sources' };

/**
 * A control request from `booster policy ...` or `booster sources` (a booster
 * extension; never sent to 0.3 nodes). The reply lists the rules from
 * `rulesOffset` (default 0) on, as many as fit in one packet; op "sources"
 * also lists every source (SourceReport), before the rules.
 */
export type ControlRequest = ControlOperation & { readonly rulesOffset?: number };

export interface ControlReply {
  readonly ok: boolean;
  readonly error?: string;
  readonly message?: string;
  readonly policy: string;
  readonly available: readonly string[];
  /** One page of the node's rules: `rules[0]` is rule #rulesOffset. */
  readonly rules: readonly Rule[];
  readonly rulesOffset: number;
  /** How many rules the node has; more than `rulesOffset + rules.length` means there are further pages. */
  readonly rulesTotal: number;
  readonly faults: Readonly<Record<string, number>>;
  /** Op "sources" only: each source, at most limits.maxPeers plus the local ones. */
  readonly sources?: readonly SourceReport[];
  /** Op "sources" only: how many sources the node has (more than `sources.length`: the rest did not fit). */
  readonly sourcesTotal?: number;
  /** Ops "peer-add" and "peer-remove": the peer concerned. */
  readonly peer?: NodeStatusView;
}

/**
 * - `up`: the policy may choose it;
 * - `probing`: back from an ejection, on probation (the next dial decides);
 * - `ejected`: dials failed; left out until its back-off ends (`ejectedForMs`);
 * - `down`: unreachable (a peer whose link dropped or went silent).
 */
export type SourceState = 'up' | 'probing' | 'ejected' | 'down';

/** One source as `booster sources` (and `status`) shows it: the ControlReply of op "sources". */
export interface SourceReport {
  readonly id: string;
  readonly kind: SourceKind;
  readonly label: string;
  /** Local address (interface) or proxy host:port (peer); "" for direct. */
  readonly address: string;
  readonly state: SourceState;
  /** Why the state last changed; "" while it never did. */
  readonly reason: string;
  /** State "ejected": ms until it is tried again; else 0. */
  readonly ejectedForMs: number;
  /** How long ago the state last changed, in ms; 0 while it never did. */
  readonly stateForMs: number;
  readonly openTunnels: number;
  readonly pendingDials: number;
  readonly load: number;
  readonly workload: number;
  /** bytes/s */
  readonly throughputUp: number;
  readonly throughputDown: number;
  /** bytes/s; 0 while unknown. */
  readonly capacity: number;
  readonly capacitySource: CapacitySource;
  readonly connectLatencyMs: number;
  readonly recentFailures: number;
  readonly consecutiveFailures: number;
  readonly totalTunnels: number;
  readonly bytesUp: number;
  readonly bytesDown: number;
  /** The active policy's preference (BalancingPolicy.describe), when it exposes one: 1 = first choice. */
  readonly rank?: number;
  readonly score?: number;
  readonly note?: string;
}
