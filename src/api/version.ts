/**
 * The version of the plugin contract (src/api) this build implements. A plugin
 * states the versions it works with as a semver range in its package.json,
 * `"engines": { "booster": "^1.0.0" }`; the host refuses one whose range this
 * version does not satisfy. Bumped: major for a breaking change to src/api,
 * minor for an addition.
 */
export const PLUGIN_API_VERSION = '1.0.0';
