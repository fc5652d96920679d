import { Args, Flags } from '@oclif/core';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { BoosterCommand } from '../../cli/base';

export default class PluginsInstall extends BoosterCommand {
  static override description = `Install a booster plugin: an npm package name (with @version or @tag), a path to a plugin folder or packed tarball (.tgz), or a git URL.

Installed plugins load on the next start; "booster plugins" lists them and what they contribute.`;
  static override examples = [
    '<%= config.bin %> plugins install booster-plugin-lowest-latency',
    '<%= config.bin %> plugins install ./booster-plugin-lowest-latency-1.0.0.tgz',
    '<%= config.bin %> plugins install ../my-plugin',
  ];
  static override enableJsonFlag = true;
  static override args = { plugin: Args.string({ description: 'npm spec, path or tarball', required: true }) };
  static override flags = {
    force: Flags.boolean({ description: 'refetch even if a copy is installed' }),
    verbose: Flags.boolean({ char: 'v', description: 'show npm output' }),
  };

  async run(): Promise<{ installed: string }> {
    const { args, flags } = await this.parse(PluginsInstall);
    // @oclif/plugin-plugins reads "a/b" as a GitHub slug: give local paths and tarballs to npm as file: specs.
    const local = fs.existsSync(args.plugin);
    if (!local && looksLikePath(args.plugin)) {
      throw new Error(`${args.plugin}: no such file or folder (a plugin path must exist; npm packages are named without ./, ../ or /)`);
    }
    const spec = local ? `file:${path.resolve(args.plugin)}` : args.plugin;
    const pluginPlugins = this.config.plugins.get('@oclif/plugin-plugins');
    if (!pluginPlugins) this.error('@oclif/plugin-plugins is missing from this installation', { exit: 1 });
    const Installer = await pluginPlugins.findCommand('plugins:install', { must: true });
    await Installer.run([spec, ...(flags.force ? ['--force'] : []), ...(flags.verbose ? ['--verbose'] : ['--silent'])], this.config);
    return { installed: spec };
  }
}

/** A spec that can only mean a file or folder: relative or absolute paths, ~, and tarballs. */
function looksLikePath(spec: string): boolean {
  return /^(\.{1,2}([\\/]|$)|[\\/]|~[\\/]?)/.test(spec) || /\.(tgz|tar\.gz)$/i.test(spec) || /^file:/i.test(spec);
}
