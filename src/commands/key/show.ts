import { Flags } from '@oclif/core';
import * as QRCode from 'qrcode';
import { currentNetworkKey } from '../../cli/runtime';
import { keyLocationFlags, stderr } from '../../cli/key-flags';
import { httpToken } from '../../security/http-token';
import type { NetworkKey } from '../../security/key';
import { BoosterCommand } from '../../cli/base';

export default class KeyShow extends BoosterCommand {
  static override description = `Print the network key, to give it to another device of the same network.

The key comes from --key-file, else BOOSTER_KEY, else DIR/network.key. On the other device, put it in that device's network.key, or in BOOSTER_KEY, or in "key" of its config file. Anyone who has the key can use your nodes: show it only to your own devices.`;

  static override examples = [
    '<%= config.bin %> key show',
    '<%= config.bin %> key show --qr',
    '<%= config.bin %> key show --json',
    '<%= config.bin %> key show --http-token',
  ];
  static override enableJsonFlag = true;

  static override flags = {
    qr: Flags.boolean({ description: 'also draw the key as a QR code, for a phone (e.g. Termux) to scan' }),
    'http-token': Flags.boolean({
      description: 'print only the bearer token that --metrics and --http-api require off loopback (derived from the key; not the key)',
    }),
    ...keyLocationFlags('read the key from this file instead'),
  };

  async run(): Promise<{ key: string; fingerprint: string; file: string | null } | { httpToken: string; fingerprint: string; file: string | null }> {
    const { flags } = await this.parse(KeyShow);
    let found;
    try {
      found = currentNetworkKey({ keyFile: flags['key-file'], dataDir: flags['data-dir'] }, (message) => stderr(`booster: warning: ${message}`));
    } catch (err) {
      stderr(`booster: ${err instanceof Error ? err.message : String(err)}`);
      return this.exit(1);
    }
    const { key, file } = found;
    if (flags['http-token']) {
      const token = httpToken(key);
      this.log(token);
      return { httpToken: token, fingerprint: key.fingerprint, file: file ?? null };
    }
    if (flags.qr && !this.jsonEnabled()) this.log(await qrBlock(key, Boolean(process.stdout.isTTY)));
    this.log(`network key  ${key.reveal()}`);
    this.log(`fingerprint  ${key.fingerprint}`);
    this.log(`from         ${file ?? 'BOOSTER_KEY'}`);
    return { key: key.reveal(), fingerprint: key.fingerprint, file: file ?? null };
  }
}

/**
 * The key as a QR code of half-block characters (dark modules drawn), with a
 * quiet zone. On a terminal the code is drawn black on white whatever the
 * theme, since many scanners cannot read an inverted code. Uppercase hex
 * fits QR's alphanumeric mode, so the code is smaller; it is the same key.
 */
async function qrBlock(key: NetworkKey, terminal: boolean): Promise<string> {
  const text = await QRCode.toString(key.reveal().toUpperCase(), { type: 'utf8', errorCorrectionLevel: 'M', margin: 2 });
  const lines = text.replace(/\n+$/, '').split('\n');
  return (terminal ? lines.map((line) => `\x1b[30;47m${line}\x1b[0m`) : lines).join('\n');
}
