import { Flags } from '@oclif/core';
import { newNetworkKey } from '../../cli/runtime';
import { keyLocationFlags, stderr } from '../../cli/key-flags';
import { KEY_BYTES } from '../../security/key';
import { BoosterCommand } from '../../cli/base';

export default class KeyNew extends BoosterCommand {
  static override description = `Make a new network key (${KEY_BYTES * 8} random bits) for a booster network.

Every node and CLI of one network needs the same key: make it once, then copy it to your other devices with "booster key show --qr" (or copy the file). The key is written to DIR/network.key (mode 0600) or to --key-file, and never printed here.`;

  static override examples = ['<%= config.bin %> key new', '<%= config.bin %> key new --data-dir /srv/booster', '<%= config.bin %> key new --force'];
  static override enableJsonFlag = true;

  static override flags = {
    force: Flags.boolean({ description: 'replace an existing key (every node must then get the new one)' }),
    ...keyLocationFlags('write the key to this file instead of DIR/network.key'),
  };

  async run(): Promise<{ file: string; fingerprint: string; replaced: boolean }> {
    const { flags } = await this.parse(KeyNew);
    let made;
    try {
      made = newNetworkKey({ keyFile: flags['key-file'], dataDir: flags['data-dir'] }, flags.force);
    } catch (err) {
      stderr(`booster: ${err instanceof Error ? err.message : String(err)}`);
      return this.exit(1);
    }
    const { key, file, replaced } = made;
    if (replaced)
      stderr(
        'booster: warning: the previous key is gone; every node and device of this network must get the new key (booster key show --qr), or they cannot reach this one',
      );
    if (process.env.BOOSTER_KEY) stderr('booster: warning: BOOSTER_KEY is set in this shell and takes precedence over the key file');
    this.log(`wrote a new network key to ${file}`);
    this.log(`fingerprint ${key.fingerprint}`);
    this.log('to add other devices: booster key show --qr');
    return { file, fingerprint: key.fingerprint, replaced };
  }
}
