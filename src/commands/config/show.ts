import { Flags } from '@oclif/core';
import { BoosterCommand } from '../../cli/base';
import { effectiveConfig, renderEffectiveConfig, type EffectiveConfig } from '../../cli/config-view';
import { stderr } from '../../cli/key-flags';
import { loadNodeConfig } from '../../cli/node-config';
import { DATA_DIR_HELP } from '../../kernel/data-dir';

export default class ConfigShow extends BoosterCommand {
  static override description = `Print the settings "booster start" would run with, and where each comes from, secrets redacted

Lowest first: the defaults, the config file (--config, else DIR/config.json if it exists), the state file (what connect, policy use and policy rules saved), the command line (--policy here).`;
  static override examples = ['<%= config.bin %> config show', '<%= config.bin %> config show --config booster.json --json'];
  static override enableJsonFlag = true;
  static override flags = {
    config: Flags.string({ char: 'c', description: 'config file (as for "booster start")' }),
    'data-dir': Flags.string({ description: `the node's data directory [default: ${DATA_DIR_HELP}]` }),
    policy: Flags.string({ description: 'as "booster start --policy" would' }),
  };

  async run(): Promise<EffectiveConfig> {
    const { flags } = await this.parse(ConfigShow);
    const overrides = { dataDir: flags['data-dir'], policy: flags.policy };
    const config = loadNodeConfig({ configFile: flags.config, overrides }, false, (m) => stderr(`booster: warning: ${m}`), false);
    const view = effectiveConfig(config, overrides);
    for (const line of renderEffectiveConfig(view)) this.log(line);
    return view;
  }
}
