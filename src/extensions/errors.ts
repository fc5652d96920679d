/** A plugin could not be loaded, validated or activated; names the plugin and the reason. */
export class PluginError extends Error {
  constructor(
    readonly plugin: string,
    readonly reason: string,
  ) {
    super(`plugin ${plugin}: ${reason}`);
    this.name = 'PluginError';
  }
}
