import * as fs from 'node:fs';
import * as path from 'node:path';
import { Flags } from '@oclif/core';
import { BoosterCommand } from '../../cli/base';
import { DEFAULT_SETTINGS, readConfigFile } from '../../core/config';
import { LOG_FORMATS } from '../../kernel/log-output';
import { findSystemctl, runSystemctl, writeUnit } from '../../service/install';
import { unitPath } from '../../service/paths';
import { renderUnit, shellLine, systemctlCommands, type ServiceScope } from '../../service/unit';

export default class ServiceInstall extends BoosterCommand {
  static override description = `Write a systemd unit that runs "booster start" (this booster, with this node binary) at boot or login.

--user (the default) writes ~/.config/systemd/user/booster.service, started with your session (run "loginctl enable-linger" to start it at boot). --system writes /etc/systemd/system/booster.service (needs root): a hardened unit with a DynamicUser (or --run-as USER), a read-only file system and the node's state (network key, peers) in /var/lib/booster.
Then it prints the systemctl commands to enable it; --enable runs them.`;

  static override examples = [
    '<%= config.bin %> service install --dry-run',
    '<%= config.bin %> service install --config ~/.config/booster.json',
    'sudo <%= config.bin %> service install --system --config /etc/booster.json --enable',
  ];

  static override enableJsonFlag = true;

  static override flags = {
    user: Flags.boolean({ description: 'a user unit, run by your own systemd manager (default)', exclusive: ['system'] }),
    system: Flags.boolean({ description: 'a system unit, /etc/systemd/system/booster.service (needs root)', exclusive: ['user'] }),
    config: Flags.file({ char: 'c', description: 'config file the service starts with (checked now; the service must be able to read it)', exists: true }),
    'log-format': Flags.string({ description: "the service's log format (the journal keeps stderr) [default: text]", options: [...LOG_FORMATS] }),
    'run-as': Flags.string({ description: 'system unit: run as this existing user instead of a DynamicUser', dependsOn: ['system'] }),
    'dry-run': Flags.boolean({ description: 'print the unit and where it would go; write nothing' }),
    force: Flags.boolean({ description: 'replace an existing unit' }),
    enable: Flags.boolean({ description: 'then run "systemctl daemon-reload" and "systemctl enable --now booster" (when systemctl exists)' }),
  };

  async run(): Promise<{ path: string; unit: string; written: boolean; enabled: boolean; commands: string[] }> {
    const { flags } = await this.parse(ServiceInstall);
    const scope: ServiceScope = flags.system ? 'system' : 'user';
    const startArgs: string[] = [];
    let drainMs = DEFAULT_SETTINGS.drainTimeoutMs;
    if (flags.config) {
      const config = path.resolve(flags.config);
      // A config the node cannot start with would only show up as a restart loop in the journal.
      drainMs = readConfigFile(config).settings.drainTimeoutMs ?? drainMs;
      startArgs.push('--config', config);
      if (scope === 'system' && !flags['run-as'] && (fs.statSync(config).mode & 0o004) === 0) {
        this.warn(
          `a DynamicUser cannot read ${config} (not world-readable): make it readable and keep the network key out of it (the service keeps its own in /var/lib/booster), or use --run-as USER`,
        );
      }
    }
    if (flags['log-format']) startArgs.push('--log-format', flags['log-format']);
    const unit = renderUnit({
      scope,
      node: process.execPath,
      bin: fs.realpathSync(path.join(this.config.root, 'bin', 'run')),
      startArgs,
      runAs: flags['run-as'],
      // The node's drain, plus time to close the endpoint and plugins.
      stopTimeoutSec: drainMs / 1000 + 10,
    });
    const file = unitPath(scope);
    const commands = systemctlCommands(scope, 'enable');
    if (flags['dry-run']) {
      if (!this.jsonEnabled()) {
        process.stdout.write(unit);
        this.logToStderr(`# would be written to ${file}; then: ${shellLine(commands)}`);
      }
      return { path: file, unit, written: false, enabled: false, commands: commands.map((c) => c.join(' ')) };
    }
    writeUnit(scope, unit, flags.force, file);
    this.log(`wrote ${file}`);
    let enabled = false;
    if (flags.enable) {
      const systemctl = findSystemctl();
      if (!systemctl) throw new Error(`no systemctl on PATH: the unit is written; enable it where systemd runs with: ${shellLine(commands)}`);
      runSystemctl(commands, systemctl);
      enabled = true;
      this.log(`enabled and started booster (${shellLine(commands)})`);
    } else {
      this.log(`to start it now and at every ${scope === 'user' ? 'login' : 'boot'}, run:\n  ${shellLine(commands)}`);
    }
    return { path: file, unit, written: true, enabled, commands: commands.map((c) => c.join(' ')) };
  }
}
