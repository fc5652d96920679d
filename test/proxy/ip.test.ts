import { expect } from 'chai';
import { ipv6FromBytes, ipv6ToBytes } from '../../src/proxy/ip';
import { targetOf } from '../../src/proxy/request';

describe('proxy: address helpers', () => {
  const cases: [string, string, string][] = [
    ['::1', '00000000000000000000000000000001', '::1'],
    ['::', '00000000000000000000000000000000', '::'],
    ['2001:db8::8:800:200c:417a', '20010db8000000000008080020 0c417a'.replace(' ', ''), '2001:db8::8:800:200c:417a'],
    ['1:2:3:4:5:6:7:8', '00010002000300040005000600070008', '1:2:3:4:5:6:7:8'],
    ['fe80::1%eth0', 'fe800000000000000000000000000001', 'fe80::1'],
    ['::ffff:127.0.0.1', '00000000000000000000ffff7f000001', '::ffff:7f00:1'],
    ['64:ff9b::192.0.2.33', '0064ff9b0000000000000000c0000221', '64:ff9b::c000:221'],
    ['FE80:0:0:0:0:0:0:AB', 'fe8000000000000000000000000000ab', 'fe80::ab'],
  ];
  for (const [text, hex, canonical] of cases) {
    it(`converts ${text} to bytes and back`, () => {
      const bytes = ipv6ToBytes(text);
      expect(bytes?.toString('hex')).to.equal(hex);
      expect(ipv6FromBytes(bytes!)).to.equal(canonical);
    });
  }

  it('refuses what is not an IPv6 address', () => {
    for (const text of ['127.0.0.1', 'localhost', '1::2::3', '', '12345::']) expect(ipv6ToBytes(text), text).to.equal(undefined);
  });

  it('classifies targets without resolving names', () => {
    expect(targetOf('10.0.0.1', 1).kind).to.equal('ipv4');
    expect(targetOf('::1', 1).kind).to.equal('ipv6');
    expect(targetOf('example.test', 1).kind).to.equal('domain');
    expect(targetOf('1.2.3', 1).kind).to.equal('domain');
  });
});
