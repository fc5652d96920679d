import { expect } from 'chai';
import type * as os from 'node:os';
import { resolveSettings } from '../../src/core/config';
import { PresenceHint } from '../../src/discovery/hint';
import { isLoopbackBind, linkAddresses } from '../../src/discovery/link';
import { decodeTxt, encodeTxt, isPresence, type Presence } from '../../src/discovery/txt';
import { NetworkKey } from '../../src/security/key';
import { nodeId } from '../../src/wire';
import { TEST_KEY } from '../helpers/key';

function presence(key: NetworkKey, over: Partial<Omit<Presence, 'hint'>> = {}): Presence {
  const p = { id: nodeId('localhost', 4884, 1080), bport: 4884, pport: 1080, nonce: PresenceHint.nonce(), ...over };
  return { ...p, hint: new PresenceHint(key).sign(p) };
}

describe('discovery: the TXT record and the key hint', () => {
  it('encodes as DNS-SD key=value strings and decodes back', () => {
    const p = presence(TEST_KEY);
    const strings = encodeTxt(p);
    expect(strings[0]).to.equal('txtvers=1');
    expect(strings).to.have.length(6);
    for (const s of strings) expect(Buffer.byteLength(s)).to.be.at.most(255);
    expect(decodeTxt(strings.map((s) => Buffer.from(s)))).to.deep.equal(p);
  });

  it('carries nothing of the key: no fingerprint, no key bytes, a different hint every run', () => {
    const a = presence(TEST_KEY);
    const b = presence(TEST_KEY);
    const text = encodeTxt(a).join('\n');
    expect(text).to.not.include(TEST_KEY.fingerprint);
    expect(text).to.not.include(TEST_KEY.reveal());
    expect(text).to.not.include(Buffer.from(TEST_KEY.reveal(), 'hex').toString('base64url').slice(0, 12));
    expect(a.nonce).to.not.equal(b.nonce);
    expect(a.hint).to.not.equal(b.hint);
  });

  it('a holder of the same key recognises the hint; another key, or any field changed, does not', () => {
    const other = NetworkKey.generate('other');
    const p = presence(TEST_KEY);
    expect(new PresenceHint(TEST_KEY).holds(p)).to.equal(true);
    expect(new PresenceHint(NetworkKey.parse(TEST_KEY.reveal(), 'copy')).holds(p)).to.equal(true);
    expect(new PresenceHint(other).holds(p)).to.equal(false);
    expect(new PresenceHint(TEST_KEY).holds(presence(other))).to.equal(false);
    const hint = new PresenceHint(TEST_KEY);
    expect(hint.holds({ ...p, bport: 4885 })).to.equal(false);
    expect(hint.holds({ ...p, pport: 1081 })).to.equal(false);
    expect(hint.holds({ ...p, nonce: PresenceHint.nonce() })).to.equal(false);
    expect(hint.holds({ ...p, id: nodeId('localhost', 1, 2) })).to.equal(false);
    expect(hint.holds({ ...p, hint: 'AAAAAAAAAAAA' })).to.equal(false);
  });

  it('refuses what is not a booster TXT record, and reads keys case-insensitively (first one wins)', () => {
    const good = encodeTxt(presence(TEST_KEY));
    const swap = (key: string, value: string) => good.map((s) => (s.startsWith(`${key}=`) ? `${key}=${value}` : s));
    expect(isPresence(decodeTxt(good))).to.equal(true);
    expect(decodeTxt([])).to.have.property('error');
    expect(decodeTxt(swap('txtvers', '2')))
      .to.have.property('error')
      .that.matches(/txtvers/);
    expect(decodeTxt(swap('id', 'xyz')))
      .to.have.property('error')
      .that.matches(/id/);
    for (const port of ['0', '65536', '-1', '12ab', '', '000001080']) {
      expect(decodeTxt(swap('bport', port)), port)
        .to.have.property('error')
        .that.matches(/port/);
      expect(decodeTxt(swap('pport', port)), port)
        .to.have.property('error')
        .that.matches(/port/);
    }
    expect(decodeTxt(swap('nonce', 'short'))).to.have.property('error');
    expect(decodeTxt(swap('hint', 'not base64!!'))).to.have.property('error');
    expect(decodeTxt(good.filter((s) => !s.startsWith('hint=')))).to.have.property('error');
    const upper = good.map((s) => s.replace(/^(\w+)=/, (_, k: string) => `${k.toUpperCase()}=`));
    expect(decodeTxt(upper)).to.deep.equal(decodeTxt(good));
    const twice = [...good.slice(0, 2), 'bport=1', ...good.slice(2)];
    expect(decodeTxt(twice)).to.have.property('bport', 1);
    expect(decodeTxt(['txtvers=1', ...Array.from({ length: 40 }, (_, i) => `junk${i}=x`), ...good.slice(1)])).to.have.property('error');
  });
});

describe('discovery: where a node announces, and its settings', () => {
  const present: NodeJS.Dict<os.NetworkInterfaceInfo[]> = {
    lo: [{ address: '127.0.0.1', netmask: '255.0.0.0', family: 'IPv4', mac: '00:00:00:00:00:00', internal: true, cidr: '127.0.0.1/8' }],
    eth0: [
      { address: '192.168.1.5', netmask: '255.255.255.0', family: 'IPv4', mac: '02:00:00:00:00:01', internal: false, cidr: '192.168.1.5/24' },
      { address: 'fe80::1', netmask: 'ffff:ffff:ffff:ffff::', family: 'IPv6', mac: '02:00:00:00:00:01', internal: false, cidr: 'fe80::1/64', scopeid: 2 },
    ],
    wg0: [{ address: '10.8.0.2', netmask: '255.255.255.0', family: 'IPv4', mac: '00:00:00:00:00:00', internal: false, cidr: '10.8.0.2/24' }],
  };

  it('a loopback bind announces nowhere, a specific address only there, a wildcard on every IPv4 LAN address', () => {
    for (const bind of ['127.0.0.1', '127.0.0.53', 'localhost', '::1']) expect(isLoopbackBind(bind), bind).to.equal(true);
    expect(isLoopbackBind('192.168.1.5')).to.equal(false);
    expect(linkAddresses('127.0.0.1', present)).to.deep.equal([]);
    expect(linkAddresses('192.168.1.5', present)).to.deep.equal([{ interface: 'eth0', address: '192.168.1.5', netmask: '255.255.255.0' }]);
    expect(linkAddresses('0.0.0.0', present).map((a) => a.address)).to.deep.equal(['192.168.1.5', '10.8.0.2']);
    expect(linkAddresses('192.168.9.9', present)).to.deep.equal([]);
  });

  it('discovery settings: announce by default, auto-connect only when asked; flags layer partially; bad values are refused', () => {
    expect(resolveSettings().discovery).to.deep.equal({ announce: true, autoConnect: false });
    expect(
      resolveSettings({ discovery: { autoConnect: true } as never }, { discovery: { announce: false, autoConnect: undefined } as never }).discovery,
    ).to.deep.equal({ announce: false, autoConnect: true });
    expect(() => resolveSettings({ discovery: { announce: 'yes' } as never })).to.throw(/discovery\.announce must be true or false/);
    expect(() => resolveSettings({ discovery: { anounce: true } as never })).to.throw(/unknown discovery setting "anounce"/);
    expect(() => resolveSettings({ discovery: [] as never })).to.throw(/discovery must be an object/);
  });
});
