import { PROTOCOL_VERSION } from '../kernel/version';
import { BoosterCommand } from '../cli/base';

export default class Version extends BoosterCommand {
  static override description = 'Show the booster version, the Booster Protocol version it speaks, and the Node.js version';
  static override enableJsonFlag = true;

  async run(): Promise<{ version: string; protocol: string; node: string; platform: string }> {
    const info = { version: this.config.version, protocol: PROTOCOL_VERSION, node: process.version, platform: `${process.platform}-${process.arch}` };
    this.log(`booster ${info.version} (protocol ${info.protocol}) node ${info.node} ${info.platform}`);
    return info;
  }
}
