import { Args, Command, Flags } from '@oclif/core';
import * as fs from 'node:fs';
import * as path from 'node:path';

export default class PluginsInstall extends Command {
  static override description = `Install a booster plugin: an npm package name (with @version or @tag), a path to a plugin folder or packed tarball (.tgz), or a git URL.

Installed plugins load on the next start; "booster plugins" lists them and what they contribute.`;
  static override examples = [
    '<%= config.bin %> plugins install booster-plugin-lowest-latency',
    '<%= config.bin %> plugins install ./booster-plugin-lowest-latency-1.0.0.tgz',
    '<%= config.bin %> plugins install ../my-plugin',
  ];
  static override args = { plugin: Args.string({ description: 'npm spec, path or tarball', required: true }) };
  static override flags = {
    force: Flags.boolean({ description: 'refetch even if a copy is installed' }),
    verbose: Flags.boolean({ char: 'v', description: 'show npm output' }),
  };

  async run(): Promise<void> {
    const { args, flags } = await this.parse(PluginsInstall);
    // @oclif/plugin-plugins reads "a/b" as a GitHub slug: give local paths and tarballs to npm as file: specs.
    const local = fs.existsSync(args.plugin);
    const spec = local ? `file:${path.resolve(args.plugin)}` : args.plugin;
    const pluginPlugins = this.config.plugins.get('@oclif/plugin-plugins');
    if (!pluginPlugins) this.error('@oclif/plugin-plugins is missing from this installation', { exit: 1 });
    const Installer = await pluginPlugins.findCommand('plugins:install', { must: true });
    await Installer.run([spec, ...(flags.force ? ['--force'] : []), ...(flags.verbose ? ['--verbose'] : ['--silent'])], this.config);
  }
}
