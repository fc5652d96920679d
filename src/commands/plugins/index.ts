import type { PluginState } from '../../extensions/inventory';
import { describePlugins } from '../../extensions/inventory';
import { BoosterCommand } from '../../cli/base';

export default class Plugins extends BoosterCommand {
  static override description = `List the booster plugins found (built-in, installed and linked): what each contributes, when it activates, and any load error.

Nothing is activated to produce this list: manifests are read and validated only.
Install more with "booster plugins install", remove with "booster plugins uninstall".`;
  static override enableJsonFlag = true;

  async run(): Promise<PluginState[]> {
    const plugins = describePlugins(this.config);
    for (const p of plugins) {
      const contributes = Object.entries(p.contributes)
        .map(([kind, ids]) => `${kind}: ${ids.join(', ')}`)
        .join('; ');
      this.log(`${p.name} ${p.version} (${p.origin})${p.status === 'invalid' ? ' INVALID' : ''}`);
      if (contributes) this.log(`  contributes  ${contributes}`);
      if (p.activationEvents.length) this.log(`  activates    ${p.activationEvents.join(', ')}`);
      if (p.error) this.log(`  error        ${p.error}`);
    }
    if (plugins.length === 0) this.log('no booster plugins found');
    return plugins;
  }
}
