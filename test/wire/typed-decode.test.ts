import { expect } from 'chai';
import fc from 'fast-check';
import { Writer } from 'protobufjs/minimal';
import { toWireMessage, type WireMessage } from '../../src/network/link/wire-message';
import { internal } from '../../src/wire/generated/booster';
import {
  BOOSTER_EXTENSION,
  decodeTyped,
  encodeJsonMessage,
  encodeMessage,
  encodePacket,
  Encoding,
  MessageId,
  PacketDecoder,
  WireError,
  type TypedDecodeOptions,
} from '../../src/wire';
import { fuzzRuns, vectors } from './fuzz-properties';

const one = (buf: Buffer) => new PacketDecoder().push(buf)[0];
const typed = (id: MessageId, payload?: object, options?: TypedDecodeOptions) =>
  decodeTyped(one(encodeMessage(id, payload, { extensions: [BOOSTER_EXTENSION] })), options);
const read = (id: MessageId, payload?: object, options?: TypedDecodeOptions): WireMessage => toWireMessage(typed(id, payload, options));
const readJson = (id: MessageId, json: string): WireMessage => toWireMessage(decodeTyped(one(encodeJsonMessage(id, json))));
/** A protobuf packet whose payload module is exactly `pa` (bytes no encoder of ours would write). */
const rawPayload = (id: MessageId, pa: Uint8Array) => {
  const he = internal.Header.encode({ id, modules: ['PA'], protocolVersion: '0.3' }).finish();
  return one(
    encodePacket({
      encoding: Encoding.Protobuf,
      compression: 1,
      encryption: 1,
      modules: [
        { id: 'HE', payload: Buffer.from(he) },
        { id: 'PA', payload: Buffer.from(pa) },
      ],
    }),
  );
};

const NODE_JSON = '{"id":"ab","baddr":"10.0.0.1:4884","paddr":"10.0.0.1:1080","active":true,"tunnels":[{"target":"example.com:443","copies":2}]}';

describe('typed decode: the generated types, checked field by field', () => {
  it('reads every 0.3 conformance vector (protobuf and JSON) into a network message', () => {
    for (const v of vectors) for (const p of new PacketDecoder().push(v)) expect(() => toWireMessage(decodeTyped(p))).to.not.throw();
  });

  it('reads a NodeStatus the same from JSON (0.3 monitor) and from protobuf', () => {
    const fromJson = readJson(MessageId.NODE_STATUS, NODE_JSON);
    const fromProto = read(MessageId.NODE_STATUS, {
      id: 'ab',
      baddr: '10.0.0.1:4884',
      paddr: '10.0.0.1:1080',
      active: true,
      tunnels: [{ target: 'example.com:443', copies: 2 }],
    });
    expect(fromJson).to.deep.equal(fromProto);
    expect(fromJson).to.deep.equal({
      kind: 'node-status',
      node: { id: 'ab', baddr: '10.0.0.1:4884', paddr: '10.0.0.1:1080', active: true, tunnels: [{ target: 'example.com:443', copies: 2 }] },
    });
  });

  it('reads 0.3 JSON events with their snake_case keys, and a node without tunnels (null)', () => {
    expect(readJson(MessageId.PROXY_UPDATE, '{"node_id":"n1","target":"a:1","operation":2}')).to.deep.equal({
      kind: 'proxy-update',
      nodeId: 'n1',
      target: 'a:1',
      operation: 'removed',
    });
    expect(readJson(MessageId.NETWORK_USAGE_UPDATE, '{"sender_id":"n1","data":{"tot":10,"bandwidth":3,"type":"upload"}}')).to.deep.equal({
      kind: 'bandwidth',
      nodeId: 'n1',
      type: 'upload',
      tot: 10,
      bandwidth: 3,
    });
    const m = readJson(
      MessageId.NETWORK_UPDATE,
      '{"node_id":"n1","operation":1,"remote_node":{"id":"r","baddr":"b","paddr":"p","active":false,"tunnels":null}}',
    );
    expect(m).to.deep.equal({
      kind: 'network-update',
      nodeId: 'n1',
      operation: 'added',
      node: { id: 'r', baddr: 'b', paddr: 'p', active: false, tunnels: [] },
    });
  });

  const badJson: [string, MessageId, string, RegExp][] = [
    ['a number for a string', MessageId.NODE_STATUS, '{"id":5}', /NodeStatus id must be a string, got 5/],
    ['a string for a list', MessageId.NODE_STATUS, '{"id":"a","tunnels":"many"}', /NodeStatus tunnels must be a list/],
    ['a string for a flag', MessageId.NODE_STATUS, '{"active":"yes"}', /NodeStatus active must be true or false/],
    ['a fraction for a count', MessageId.NODE_STATUS, '{"tunnels":[{"target":"a:1","copies":1.5}]}', /tunnel 0 copies must be a whole number/],
    ['a negative count', MessageId.NODE_STATUS, '{"tunnels":[{"target":"a:1","copies":-1}]}', /tunnel 0 copies must be a whole number from 0/],
    ['a string for an operation', MessageId.PROXY_UPDATE, '{"operation":"1"}', /ProxyUpdate operation must be a whole number/],
    ['an unknown operation', MessageId.PROXY_UPDATE, '{"operation":3}', /operation must be 1 \(added\) or 2 \(removed\), got 3/],
    ['a total beyond 2^53', MessageId.NETWORK_USAGE_UPDATE, '{"data":{"tot":1e300}}', /NetworkUsageUpdate tot must be a whole number/],
    ['a list for a payload', MessageId.NODE_STATUS, '[1,2]', /NODE_STATUS JSON payload must be an object/],
    ['text that is not JSON', MessageId.NODE_STATUS, '{"id":', /JSON payload does not parse/],
  ];
  for (const [what, id, json, error] of badJson) {
    it(`a JSON payload with ${what} is a WireError that names the field`, () => {
      expect(() => readJson(id, json)).to.throw(WireError, error);
    });
  }

  it('refuses a JSON encoding for a message 0.3 only sends as protobuf', () => {
    expect(() => readJson(MessageId.HELLO, '{"bport":"1","pport":"2"}')).to.throw(WireError, /HELLO is never sent JSON-encoded/);
    expect(() => readJson(MessageId.CONTROL_REQUEST, '{"op":"status"}')).to.throw(WireError, /CONTROL_REQUEST is never sent JSON-encoded/);
  });

  for (const [bport, pport] of [
    ['0', '1'],
    ['65536', '1'],
    ['80x', '1'],
    ['', '1'],
    ['1', '-1'],
    ['1', '1e3'],
  ]) {
    it(`refuses Hello ports ${JSON.stringify(bport)} ${JSON.stringify(pport)}`, () => {
      expect(() => read(MessageId.HELLO, { bport, pport })).to.throw(WireError, /Hello carries invalid ports/);
    });
  }

  it('reads numbers in range and refuses them out of range (int64 beyond 2^53, negative hops, nanos past a second)', () => {
    expect(read(MessageId.NETWORK_USAGE_UPDATE, { tot: 2 ** 53 - 1, bandwidth: 5, type: 'download', nodeID: 'n' })).to.include({
      tot: 2 ** 53 - 1,
      bandwidth: 5,
    });
    expect(() => read(MessageId.NETWORK_USAGE_UPDATE, { tot: 2 ** 60 })).to.throw(
      WireError,
      /NetworkUsageUpdate tot must be a whole number from 0 to 9007199254740991, got 1152921504606846976/,
    );
    expect(() => read(MessageId.NETWORK_USAGE_UPDATE, { tot: -1 })).to.throw(WireError, /tot must be a whole number from 0/);
    expect(() => read(MessageId.HEARTBEAT, { hops: -1, ttl: { seconds: 1 } })).to.throw(WireError, /Heartbeat hops must be a whole number from 0/);
    expect(() => read(MessageId.HEARTBEAT, { hops: 1, ttl: { seconds: 1, nanos: 1_000_000_000 } })).to.throw(WireError, /Heartbeat ttl nanos/);
    expect(() => read(MessageId.HEARTBEAT, { hops: 1, ttl: { seconds: 2 ** 40 } })).to.throw(WireError, /Heartbeat ttl seconds/);
    expect(read(MessageId.HEARTBEAT, { hops: 3, ttl: { seconds: 2, nanos: 5_000_000 } })).to.deep.include({ kind: 'heartbeat' });
  });

  it('refuses a header whose sentAt is beyond any clock (int64 seconds past 2^53, nanos past a second)', () => {
    const packet = (sentAt: { seconds: number; nanos: number }) => {
      const he = internal.Header.encode({ id: MessageId.NOTIFY, modules: [], sentAt, protocolVersion: '0.3' }).finish();
      return one(encodePacket({ encoding: Encoding.Protobuf, compression: 1, encryption: 1, modules: [{ id: 'HE', payload: Buffer.from(he) }] }));
    };
    expect(decodeTyped(packet({ seconds: 1_700_000_000, nanos: 5_000_000 })).header.sentAt).to.equal(1_700_000_000_005);
    expect(() => decodeTyped(packet({ seconds: 2 ** 60, nanos: 0 }))).to.throw(WireError, /Header sentAt seconds must be a whole number/);
    expect(() => decodeTyped(packet({ seconds: 1, nanos: 2_000_000_000 }))).to.throw(WireError, /Header sentAt nanos/);
  });

  it('refuses a string longer than maxStringBytes anywhere in a payload, and takes one exactly that long', () => {
    expect(read(MessageId.CONNECT, { target: 'x'.repeat(100) }, { maxStringBytes: 100 })).to.deep.equal({ kind: 'connect', target: 'x'.repeat(100) });
    expect(() => read(MessageId.CONNECT, { target: 'x'.repeat(101) }, { maxStringBytes: 100 })).to.throw(
      WireError,
      /CONNECT\.target is a 101-byte string, longer than the 100 bytes/,
    );
    // Counted in UTF-8 bytes, and found in nested lists too.
    const hosts = ['a.example', 'é'.repeat(51)];
    expect(() => read(MessageId.CONTROL_REQUEST, { op: 'rules-add', rule: { type: 'avoid', source: 'direct', hosts } }, { maxStringBytes: 100 })).to.throw(
      WireError,
      /CONTROL_REQUEST\.rule\.hosts\[1\] is a 102-byte string/,
    );
  });

  describe('control requests', () => {
    it('maps each known op, with its fields', () => {
      expect(read(MessageId.CONTROL_REQUEST, { op: 'use', policy: 'p2c', rulesOffset: 3 })).to.deep.equal({
        kind: 'control',
        request: { op: 'use', policy: 'p2c', transient: false, rulesOffset: 3 },
      });
      expect(read(MessageId.CONTROL_REQUEST, { op: 'rules-remove', index: 2 })).to.deep.equal({
        kind: 'control',
        request: { op: 'rules-remove', index: 2, transient: false, rulesOffset: 0 },
      });
      expect(read(MessageId.CONTROL_REQUEST, { op: 'sources' })).to.deep.equal({ kind: 'control', request: { op: 'sources', rulesOffset: 0 } });
    });

    it('never turns an unknown or missing op into another op: it is refused by name', () => {
      expect(read(MessageId.CONTROL_REQUEST, { op: 'format-disk' })).to.deep.equal({
        kind: 'control',
        refused: 'unknown control operation "format-disk" (known: status, use, rules-add, rules-remove, sources, peer-add, peer-remove, reload)',
      });
      expect(read(MessageId.CONTROL_REQUEST, { op: '', policy: 'x' }))
        .to.have.property('refused')
        .that.matches(/names no operation/);
      expect(read(MessageId.CONTROL_REQUEST, { op: 'STATUS' }))
        .to.have.property('refused')
        .that.matches(/unknown control operation "STATUS"/);
    });

    it('hands a rule over as sent, for the control handler to validate (no cast to Rule)', () => {
      const m = read(MessageId.CONTROL_REQUEST, { op: 'rules-add', rule: { type: 'frobnicate', source: 'direct', hosts: [], ttlMs: 0 } });
      expect(m).to.deep.equal({
        kind: 'control',
        request: { op: 'rules-add', rule: { type: 'frobnicate', source: 'direct' }, transient: false, rulesOffset: 0 },
      });
      const sticky = read(MessageId.CONTROL_REQUEST, { op: 'rules-add', rule: { type: 'sticky', ttlMs: 60_000, hosts: ['a.example'] } });
      expect(sticky).to.deep.equal({
        kind: 'control',
        request: { op: 'rules-add', rule: { type: 'sticky', ttlMs: 60_000, hosts: ['a.example'] }, transient: false, rulesOffset: 0 },
      });
    });
  });

  describe('control replies (what the CLI reads)', () => {
    const source = { id: 'direct', kind: 'direct', label: 'direct', state: 'up', capacitySource: 'unknown', bytesUp: 2 ** 40 };
    it('reads sources, int64 counters and fault counts as numbers', () => {
      const m = read(MessageId.CONTROL_REPLY, {
        ok: true,
        policy: 'p2c',
        faults: { p2c: 7 },
        sources: [source],
        sourcesTotal: 1,
        rules: [{ type: 'block', source: 'direct' }],
        rulesTotal: 1,
      });
      if (m.kind !== 'control-reply') throw new Error(m.kind);
      expect(m.reply.faults).to.deep.equal({ p2c: 7 });
      expect(m.reply.sources?.[0]).to.include({ id: 'direct', bytesUp: 2 ** 40, state: 'up' });
      expect(m.reply.rules).to.deep.equal([{ type: 'block', source: 'direct' }]);
    });
    it('refuses an unknown source kind, state or rule type', () => {
      expect(() => read(MessageId.CONTROL_REPLY, { ok: true, sources: [{ ...source, kind: 'teleport' }], sourcesTotal: 1 })).to.throw(
        WireError,
        /source 0 kind is "teleport" \(one of direct, interface, peer\)/,
      );
      expect(() => read(MessageId.CONTROL_REPLY, { ok: true, sources: [{ ...source, state: 'sleepy' }], sourcesTotal: 1 })).to.throw(
        WireError,
        /source 0 state is "sleepy"/,
      );
      expect(() => read(MessageId.CONTROL_REPLY, { ok: true, rules: [{ type: 'frob' }], rulesTotal: 1 })).to.throw(WireError, /rule 0 has unknown type "frob"/);
    });
  });

  it('a payload of the wrong protobuf wire type is a WireError, not a crash', () => {
    // Field 1 (target) as a length-delimited run longer than the payload.
    expect(() => decodeTyped(rawPayload(MessageId.CONNECT, Uint8Array.from([0x0a, 0x7f, 0x41])))).to.throw(WireError, /CONNECT payload does not decode/);
  });

  describe('fuzzing (fast-check)', () => {
    const withPayload = Object.values(MessageId).filter(
      (v): v is MessageId => typeof v === 'number' && v !== MessageId.MESSAGE_UNSET && v !== MessageId.NOTIFY && v !== MessageId.START_TLS,
    );
    const onlyWireErrors = (f: () => unknown) => {
      try {
        f();
      } catch (err) {
        if (!(err instanceof WireError)) throw new Error(`escaped ${(err as Error).name}: ${(err as Error).message}`);
      }
    };

    it('random protobuf payload bytes under any message id: a message or a WireError, nothing else', () => {
      fc.assert(
        fc.property(fc.constantFrom(...withPayload), fc.uint8Array({ minLength: 1, maxLength: 200 }), (id, pa) => {
          onlyWireErrors(() => toWireMessage(decodeTyped(rawPayload(id, pa), { maxStringBytes: 64 })));
        }),
        { numRuns: fuzzRuns(3000) },
      );
    });

    it('well-formed protobuf fields of random values (wrong types for the field number included): a message or a WireError', () => {
      const field = fc.record({
        no: fc.integer({ min: 1, max: 30 }),
        value: fc.oneof(fc.bigInt({ min: -(2n ** 63n), max: 2n ** 63n - 1n }), fc.string({ maxLength: 30 }), fc.double()),
      });
      fc.assert(
        fc.property(fc.constantFrom(...withPayload), fc.array(field, { minLength: 1, maxLength: 8 }), (id, fields) => {
          const w = Writer.create();
          for (const f of fields) {
            if (typeof f.value === 'bigint') w.uint32((f.no << 3) | 0).int64(f.value.toString());
            else if (typeof f.value === 'string') w.uint32((f.no << 3) | 2).string(f.value);
            else w.uint32((f.no << 3) | 1).double(f.value);
          }
          onlyWireErrors(() => toWireMessage(decodeTyped(rawPayload(id, w.finish()))));
        }),
        { numRuns: fuzzRuns(3000) },
      );
    });

    it('random JSON values for the 0.3 JSON events: a message or a WireError naming what was wrong', () => {
      const ids = [MessageId.NODE_STATUS, MessageId.PROXY_UPDATE, MessageId.NETWORK_UPDATE, MessageId.NETWORK_USAGE_UPDATE];
      const keys = fc.constantFrom(
        'id',
        'baddr',
        'paddr',
        'active',
        'tunnels',
        'target',
        'copies',
        'node_id',
        'operation',
        'remote_node',
        'sender_id',
        'data',
        'tot',
        'bandwidth',
        'type',
      );
      const json = fc.letrec<{ value: unknown }>((tie) => ({
        value: fc.oneof(
          { depthSize: 'small' },
          fc.jsonValue({ maxDepth: 1 }),
          fc.dictionary(keys, tie('value'), { maxKeys: 6 }),
          fc.array(tie('value'), { maxLength: 3 }),
        ),
      })).value;
      fc.assert(
        fc.property(fc.constantFrom(...ids), json, (id, value) => {
          onlyWireErrors(() => readJson(id, JSON.stringify(value) ?? 'null'));
        }),
        { numRuns: fuzzRuns(3000) },
      );
    });

    it('any op string: a known op is that op, anything else is refused (never status)', () => {
      fc.assert(
        fc.property(
          fc.oneof(fc.string({ maxLength: 20 }), fc.constantFrom('status', 'use', 'rules-add', 'rules-remove', 'sources', 'reload', 'statu', 'status ')),
          (op) => {
            const m = read(MessageId.CONTROL_REQUEST, { op });
            if (m.kind !== 'control') throw new Error(m.kind);
            if (m.request) expect(m.request.op).to.equal(op);
            else expect(['status', 'use', 'rules-add', 'rules-remove', 'sources', 'peer-add', 'peer-remove', 'reload']).to.not.include(op);
          },
        ),
        { numRuns: fuzzRuns(2000) },
      );
    });
  });
});
