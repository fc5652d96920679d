/**
 * A deep-frozen copy of plain data (settings, plugin options): a plugin can
 * neither change what the node uses nor what another plugin sees. Copied
 * first so that freezing never reaches into the node's own objects.
 */
export function frozenCopy<T>(value: T): T {
  return deepFreeze(structuredClone(value));
}

function deepFreeze<T>(value: T): T {
  if (typeof value !== 'object' || value === null || Object.isFrozen(value)) return value;
  for (const key of Object.keys(value)) deepFreeze((value as Record<string, unknown>)[key]);
  return Object.freeze(value);
}
