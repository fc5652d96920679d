import * as os from 'node:os';
import * as path from 'node:path';
import type { Config } from '@oclif/core';
import type { Logger } from '../api/logger';
import type { NodeSettings } from '../api/settings';
import type { ConfigFile } from '../core/config';
import { defaultDataDir } from '../kernel/data-dir';
import { BoosterNode } from '../core/node';
import { discoverInstalledPlugins, discoverPlugins } from '../extensions/discovery';
import { StateKeeper } from '../state/state-keeper';
import { loadNodeConfig, readConfigLayer } from './node-config';
import { createKeyFile, KeyError, keyFileIn, loadKey, NetworkKey } from '../security/key';

export interface StartRequest {
  readonly configFile?: string;
  /** --key-file: the network key file, before BOOSTER_KEY and the config file. */
  readonly keyFile?: string;
  readonly overrides: Partial<NodeSettings>;
  /** The logger `start` built from --log-level/--log-file/--log-format (kept across ctrl restarts). */
  readonly logger: Logger;
}

/**
 * What `booster start` does, minus parsing and rendering: settings (see
 * loadNodeConfig for the precedence), network key, plugins, node. A restart
 * (`ctrl restart`) loads oclif's configuration again, so plugins installed or
 * linked since the process started are found.
 */
export async function startNode(config: Config, request: StartRequest, restarted = false): Promise<BoosterNode> {
  const { logger } = request;
  const { configFile, file, layer, settings, state, stateFile, peers } = loadNodeConfig(request, restarted, (m) => logger.warn(m));
  checkInterfaces(settings.interfaces);
  if (configFile && !request.configFile) logger.info(`read the config file ${configFile}`);
  const key = nodeKey({ ...request, configFile }, file, settings.dataDir, logger);
  const plugins = restarted ? await discoverInstalledPlugins(config.root) : discoverPlugins(config);
  return BoosterNode.start({
    settings,
    key,
    logger,
    plugins,
    peers,
    state: new StateKeeper(stateFile, state, logger.child('state'), settings.limits.maxPeers),
    config: { layer, read: () => readConfigLayer(request).layer },
  });
}

/** Calls `handler` on every SIGHUP (the usual "re-read your config" signal) until disposed. */
export function onHangup(handler: () => void): { dispose(): void } {
  process.on('SIGHUP', handler);
  return { dispose: () => process.off('SIGHUP', handler) };
}

/**
 * Every interface the user named (by name or address; "auto" aside) must exist
 * on this machine: a typo is a start failure, not a warning and a node that
 * quietly uses other links.
 */
function checkInterfaces(wanted: readonly string[], present = os.networkInterfaces()): void {
  const names = Object.keys(present);
  const addresses = new Set(Object.values(present).flatMap((infos) => (infos ?? []).map((i) => i.address.toLowerCase())));
  const missing = wanted.filter((w) => w !== 'auto' && !names.includes(w) && !addresses.has(w.toLowerCase()));
  if (missing.length > 0) {
    throw new Error(
      `no such interface${missing.length > 1 ? 's' : ''} ${missing.map((m) => `"${m}"`).join(', ')} on this machine (it has: ${names.join(', ') || 'none'}); name an interface or one of its addresses, or "auto"`,
    );
  }
}

/**
 * The node's network key (see loadKey for the order); without one, a new key
 * in the data directory. Logs one line with the fingerprint and its origin,
 * never the key.
 */
function nodeKey(request: StartRequest, file: ConfigFile | undefined, dataDir: string, logger: Logger): NetworkKey {
  const warn = (message: string) => logger.warn(message);
  const configKeyFile = file?.keyFile && request.configFile ? path.resolve(path.dirname(request.configFile), file.keyFile) : undefined;
  const found = loadKey({ keyFile: request.keyFile, env: process.env.BOOSTER_KEY, configKey: file?.key, configKeyFile, dataDir: path.resolve(dataDir) }, warn);
  if (found) {
    logger.info(`network key ${found.fingerprint} (from ${found.origin})`);
    return found;
  }
  const { key, created } = createKeyFile(keyFileIn(path.resolve(dataDir)), warn);
  if (created) logger.info(`created a network key in ${key.origin} (fingerprint ${key.fingerprint}); run "booster key show --qr" to add other devices`);
  else logger.info(`network key ${key.fingerprint} (from ${key.origin})`);
  return key;
}

/** Where `booster key new|show` look: --key-file, else the data directory's network.key. */
export interface KeyLocation {
  readonly keyFile?: string;
  readonly dataDir?: string;
}

export function keyFilePath(location: KeyLocation): string {
  return path.resolve(location.keyFile ?? keyFileIn(location.dataDir ?? defaultDataDir()));
}

/** `booster key new`: a fresh key written to the key file; `replaced` tells whether an old one was overwritten (needs `force`). */
export function newNetworkKey(location: KeyLocation, force: boolean): { key: NetworkKey; file: string; replaced: boolean } {
  const file = keyFilePath(location);
  const key = NetworkKey.generate(file);
  try {
    key.write(file, false);
    return { key, file, replaced: false };
  } catch (err) {
    if (!(force && err instanceof KeyError && err.code === 'exists')) throw err;
  }
  key.write(file, true);
  return { key, file, replaced: true };
}

/**
 * `booster key show`: --key-file, else BOOSTER_KEY, else the data directory's
 * key (the order `booster start` uses, without a config file).
 */
export function currentNetworkKey(location: KeyLocation, onWarning?: (message: string) => void): { key: NetworkKey; file?: string } {
  const key = findNetworkKey(location, onWarning);
  if (!key)
    throw new KeyError(`no network key yet: run "booster key new" (looked in ${keyFileIn(path.resolve(location.dataDir ?? defaultDataDir()))})`, 'missing');
  return { key, file: key.origin === 'BOOSTER_KEY' ? undefined : key.origin };
}

/** The key a CLI holds (same order as currentNetworkKey), or undefined when it has none. */
export function findNetworkKey(location: KeyLocation, onWarning?: (message: string) => void): NetworkKey | undefined {
  const file = location.keyFile ? path.resolve(location.keyFile) : undefined;
  return loadKey({ keyFile: file, env: process.env.BOOSTER_KEY, dataDir: path.resolve(location.dataDir ?? defaultDataDir()) }, onWarning);
}

/** Calls `handler` on the next SIGINT or SIGTERM, once; dispose to stop listening. */
export function onNextSignal(handler: (signal: NodeJS.Signals) => void): { dispose(): void } {
  const on = (signal: NodeJS.Signals) => {
    dispose();
    handler(signal);
  };
  const dispose = () => {
    process.off('SIGINT', on);
    process.off('SIGTERM', on);
  };
  process.on('SIGINT', on);
  process.on('SIGTERM', on);
  return { dispose };
}

/** Resolves when the process is asked to stop (SIGINT or SIGTERM). */
export function untilSignal(): Promise<NodeJS.Signals> {
  return new Promise((resolve) => onNextSignal(resolve));
}
