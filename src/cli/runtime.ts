import type { Config } from '@oclif/core';
import type { LogLevel } from '../api/logger';
import type { NodeSettings } from '../api/settings';
import { readConfigFile, resolveSettings } from '../core/config';
import { ConsoleLogger } from '../core/logger';
import { BoosterNode } from '../core/node';
import { discoverPlugins } from '../extensions/discovery';

export interface StartRequest {
  readonly configFile?: string;
  readonly overrides: Partial<NodeSettings>;
  readonly logLevel: LogLevel;
}

/** What `booster start` does, minus parsing and rendering: settings, plugins, node. */
export async function startNode(config: Config, request: StartRequest): Promise<BoosterNode> {
  const fromFile = request.configFile ? readConfigFile(request.configFile).settings : {};
  const settings = resolveSettings(fromFile, request.overrides);
  const logger = new ConsoleLogger(request.logLevel);
  return BoosterNode.start({ settings, logger, plugins: discoverPlugins(config) });
}

/** Resolves when the process is asked to stop (SIGINT or SIGTERM). */
export function untilSignal(): Promise<NodeJS.Signals> {
  return new Promise((resolve) => {
    const on = (signal: NodeJS.Signals) => {
      process.off('SIGINT', on);
      process.off('SIGTERM', on);
      resolve(signal);
    };
    process.on('SIGINT', on);
    process.on('SIGTERM', on);
  });
}
