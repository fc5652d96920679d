import * as fs from 'node:fs';
import * as path from 'node:path';
import { Args, Flags } from '@oclif/core';
import { BoosterCommand, UsageError } from '../../cli/base';
import { starterConfig } from '../../cli/config-template';
import { writeFileAtomicSync } from '../../kernel/atomic-file';
import { configFileIn, DATA_DIR_HELP, defaultDataDir } from '../../kernel/data-dir';

export default class ConfigInit extends BoosterCommand {
  static override description = `Write a commented starter config file (every value the default)

FILE defaults to config.json in the data directory, which "booster start" reads when given no --config. An existing file is kept unless --force.`;
  static override examples = ['<%= config.bin %> config init', '<%= config.bin %> config init booster.json', '<%= config.bin %> config init --force'];
  static override enableJsonFlag = true;
  static override args = { file: Args.string({ description: 'where to write it [default: DIR/config.json]' }) };
  static override flags = {
    force: Flags.boolean({ description: 'overwrite an existing file' }),
    'data-dir': Flags.string({ description: `the data directory whose config.json to write [default: ${DATA_DIR_HELP}]` }),
  };

  async run(): Promise<{ file: string; replaced: boolean }> {
    const { args, flags } = await this.parse(ConfigInit);
    const file = path.resolve(args.file ?? configFileIn(flags['data-dir'] ?? defaultDataDir()));
    const exists = fs.existsSync(file);
    if (exists && !flags.force) throw new UsageError(`${file} already exists; use --force to overwrite it`);
    // 0600 (the default): a config file may come to hold the network key or proxy credentials.
    writeFileAtomicSync(file, starterConfig());
    this.log(`${exists ? 'replaced' : 'wrote'} ${file}; "booster config show${args.file ? ` --config ${file}` : ''}" prints the settings it gives`);
    return { file, replaced: exists };
  }
}
