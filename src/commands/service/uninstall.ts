import { Flags } from '@oclif/core';
import { BoosterCommand } from '../../cli/base';
import { findSystemctl, removeUnit, runSystemctl } from '../../service/install';
import { unitPath } from '../../service/paths';
import { shellLine, systemctlCommands, type ServiceScope } from '../../service/unit';

export default class ServiceUninstall extends BoosterCommand {
  static override description = `Remove the systemd unit "booster service install" wrote.

An enabled unit is refused until it is disabled: run the printed "systemctl disable --now booster" first, or pass --disable to have it run (stop, disable, remove, daemon-reload).`;

  static override examples = ['<%= config.bin %> service uninstall --disable', 'sudo <%= config.bin %> service uninstall --system --disable'];
  static override enableJsonFlag = true;

  static override flags = {
    user: Flags.boolean({ description: 'the user unit (default)', exclusive: ['system'] }),
    system: Flags.boolean({ description: 'the system unit (needs root)', exclusive: ['user'] }),
    disable: Flags.boolean({ description: 'first run "systemctl disable --now booster", then "systemctl daemon-reload" after removing' }),
  };

  async run(): Promise<{ path: string; removed: boolean }> {
    const { flags } = await this.parse(ServiceUninstall);
    const scope: ServiceScope = flags.system ? 'system' : 'user';
    const [disable, reload] = systemctlCommands(scope, 'disable');
    const systemctl = flags.disable ? findSystemctl() : undefined;
    if (flags.disable && !systemctl) throw new Error(`no systemctl on PATH, so --disable cannot run "${shellLine([disable])}"`);
    if (systemctl) runSystemctl([disable], systemctl);
    const file = removeUnit(scope, unitPath(scope));
    this.log(`removed ${file}`);
    if (systemctl) runSystemctl([reload], systemctl);
    else this.log(`run "${shellLine([reload])}" so systemd forgets it`);
    return { path: file, removed: true };
  }
}
