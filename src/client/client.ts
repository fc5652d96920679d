import type { Transport } from '../api/transport';
import { formatHostPort, parseHostPort } from '../network/link/errors';
import type { ControlReply, ControlRequest } from '../network/control/control';
import { greet } from '../network/link/handshake';
import type { NodeStatusView, ProtocolLink, WireMessage } from '../network/link/protocol';
import type { SourceReport } from '../network/control/source-report';
import type { Authenticator } from '../security/auth';

export const DEFAULT_NODE = 'localhost:4884';

export interface CommandOutcome {
  /** The node's NodeStatus answer, if any. */
  readonly node?: NodeStatusView;
  /** The node's own words (booster nodes only). */
  readonly message?: string;
}

/** Failure of a CLI request: one clear line for the user. */
export class ClientError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ClientError';
  }
}

/**
 * The CLI's side of the booster endpoint. Works with 0.3 nodes (which answer
 * only with NodeStatus, or close the link on failure) and with booster nodes
 * (which also say what happened).
 */
export class BoosterClient {
  private constructor(
    private readonly link: ProtocolLink,
    readonly address: string,
  ) {}

  /**
   * Connects to a node's endpoint. With an authenticator (a CLI holding the
   * network key) the link is secured and authenticated as a CLI; without one it
   * is plain, which a node accepts from its own machine only.
   */
  static async open(transport: Transport, address: string = DEFAULT_NODE, timeoutMs = 5000, authenticator?: Authenticator): Promise<BoosterClient> {
    const target = parseHostPort(address, 4884);
    const label = formatHostPort(target.host, target.port);
    try {
      const greeting = await greet({
        transport,
        address: target,
        timeoutMs,
        auth: authenticator ? { role: 'cli', authenticator } : undefined,
        // The user named this node; a 0.3 node gets no secret from us either way.
        allowLegacy: () => true,
      });
      return new BoosterClient(greeting.link, label);
    } catch (err) {
      throw new ClientError(`cannot talk to node ${label}: ${(err as Error).message}`);
    }
  }

  /** Does the node speak booster's extensions (policy control, result messages)? */
  get extended(): boolean {
    return this.link.peerExtended;
  }

  close(): void {
    this.link.close();
  }

  async connect(target: string, timeoutMs = 15_000): Promise<CommandOutcome> {
    this.link.sendConnect(target);
    return this.awaitOutcome(`connect ${target}`, timeoutMs);
  }

  async disconnect(id: string, timeoutMs = 5000): Promise<CommandOutcome> {
    this.link.sendDisconnect(id);
    return this.awaitOutcome(`disconnect ${id}`, timeoutMs);
  }

  async ctrl(operation: 'stop' | 'restart', timeoutMs = 3000): Promise<CommandOutcome> {
    this.link.sendCtrl(operation);
    if (!this.extended) return {};
    return this.awaitOutcome(`ctrl ${operation}`, timeoutMs, false);
  }

  /** Streams a monitor feature; returns a disposer. */
  monitor(feature: 'node' | 'net', onMessage: (m: WireMessage) => void, onEnd: (reason: string) => void): () => void {
    const subs = [this.link.onMessage(onMessage), this.link.onClose(onEnd)];
    this.link.sendMonitor(feature);
    return () => {
      subs.forEach((s) => s.dispose());
      this.close();
    };
  }

  /**
   * The node and its active peers, from the first packets of a monitor stream.
   * `onNote` gets the text that closes a booster node's snapshot (it names the
   * nodes whose target list was cut to fit a packet; see snapshotNote).
   */
  async status(quietMs = 300, timeoutMs = 5000, onNote?: (note: string) => void): Promise<NodeStatusView[]> {
    return new Promise((resolve, reject) => {
      const nodes: NodeStatusView[] = [];
      let quiet: NodeJS.Timeout | undefined;
      const finish = () => {
        clearTimeout(quiet);
        clearTimeout(timer);
        stop();
        resolve(nodes);
      };
      const timer = setTimeout(
        () => (nodes.length ? finish() : (stop(), reject(new ClientError(`node ${this.address} sent no status within ${timeoutMs} ms`)))),
        timeoutMs,
      );
      const stop = this.monitor(
        'node',
        (m) => {
          if (m.kind === 'node-status') {
            nodes.push(m.node);
            // 0.3 nodes do not mark the end of the snapshot: wait for a quiet moment.
            clearTimeout(quiet);
            if (!this.extended) quiet = setTimeout(finish, quietMs);
          } else if (m.kind === 'result') {
            onNote?.(m.message);
            finish();
          }
        },
        (reason) => {
          clearTimeout(quiet);
          clearTimeout(timer);
          if (nodes.length) resolve(nodes);
          else reject(new ClientError(`node ${this.address} closed the link: ${reason}`));
        },
      );
    });
  }

  /**
   * Sends a policy/rules request. The reply lists all the node's rules, which
   * come a packet-sized page at a time; with `request.rulesOffset` set, just
   * that page.
   */
  async control(request: ControlRequest, timeoutMs = 10_000): Promise<ControlReply> {
    if (!this.extended) throw new ClientError(`node ${this.address} does not support policy control (a 0.3 node?)`);
    const reply = await this.controlPage(request, timeoutMs);
    if (request.rulesOffset !== undefined) return reply;
    // A node from before paging sends every rule and no total.
    let total = reply.rulesTotal || reply.rules.length;
    let rules = [...reply.rules];
    for (let restarts = 0; rules.length < total;) {
      const page = await this.controlPage({ op: 'status', rulesOffset: rules.length }, timeoutMs);
      if (page.rulesTotal !== total || page.rulesOffset !== rules.length) {
        // Someone changed the rules between two pages: list them again from the start.
        if (++restarts > 3) throw new ClientError(`the rules of node ${this.address} kept changing while they were listed; try again`);
        total = page.rulesTotal;
        rules = [];
        continue;
      }
      if (page.rules.length === 0) throw new ClientError(`node ${this.address} sent no rules from #${rules.length} on, but says it has ${total}`);
      rules.push(...page.rules);
    }
    return { ...reply, rules, rulesOffset: 0, rulesTotal: total };
  }

  /**
   * Every source of the node (direct, interfaces, peers) with its state and
   * statistics; `total` above `sources.length` means the node left some out.
   */
  async sources(timeoutMs = 10_000): Promise<{ policy: string; sources: readonly SourceReport[]; total: number }> {
    if (!this.extended) throw new ClientError(`node ${this.address} does not report its sources (a 0.3 node?)`);
    const reply = await this.controlPage({ op: 'sources' }, timeoutMs);
    if (reply.sources === undefined) throw new ClientError(`node ${this.address} does not report its sources (an older booster node, or one without sources)`);
    return { policy: reply.policy, sources: reply.sources, total: reply.sourcesTotal ?? reply.sources.length };
  }

  private async controlPage(request: ControlRequest, timeoutMs: number): Promise<ControlReply> {
    this.link.sendControl(request);
    const reply = await this.next((m) => (m.kind === 'control-reply' ? m.reply : undefined), `policy request`, timeoutMs);
    if (!reply.ok) throw new ClientError(reply.error ?? 'request failed');
    return reply;
  }

  private async awaitOutcome(what: string, timeoutMs: number, expectStatus = true): Promise<CommandOutcome> {
    let node: NodeStatusView | undefined;
    const result = await this.next(
      (m) => {
        if (m.kind === 'node-status') {
          node = m.node;
          return this.extended ? undefined : { ok: true, message: undefined };
        }
        if (m.kind === 'result') return { ok: m.code === 0, message: m.message };
        return undefined;
      },
      what,
      timeoutMs,
    );
    if (!result.ok) throw new ClientError(`node ${this.address} refused ${what}: ${result.message}`);
    if (expectStatus && !node) throw new ClientError(`node ${this.address} did not answer ${what}`);
    return { node, message: result.message };
  }

  private next<T>(pick: (m: WireMessage) => T | undefined, what: string, timeoutMs: number): Promise<T> {
    return new Promise((resolve, reject) => {
      const done = () => {
        clearTimeout(timer);
        subs.forEach((s) => s.dispose());
      };
      const timer = setTimeout(() => {
        done();
        reject(new ClientError(`node ${this.address} did not answer ${what} within ${timeoutMs} ms`));
      }, timeoutMs);
      const subs = [
        this.link.onMessage((m) => {
          const v = pick(m);
          if (v !== undefined) {
            done();
            resolve(v);
          }
        }),
        this.link.onClose((reason) => {
          done();
          reject(new ClientError(`node ${this.address} closed the link during ${what}${reason ? ` (${reason})` : ''}`));
        }),
      ];
    });
  }
}
