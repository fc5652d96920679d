import type { PluginContext } from 'booster';
import { DirectDialer } from './dialer';
import { resolveInterfaceSources } from './interfaces';

export async function activate(context: PluginContext): Promise<void> {
  context.subscriptions.push(context.dialers.register(new DirectDialer()));
  const wanted = context.settings.interfaces;
  if (wanted.length === 0) {
    context.subscriptions.push(context.sources.add({ id: 'direct', kind: 'direct', label: 'direct', dialer: 'direct', local: true }));
    return;
  }
  const probe = typeof context.options.routeProbe === 'string' ? context.options.routeProbe : undefined;
  const { sources, problems } = await resolveInterfaceSources(wanted, probe);
  for (const problem of problems) context.log.warn(problem);
  if (sources.length === 0) {
    context.log.warn('no usable local interface address; falling back to the direct source');
    context.subscriptions.push(context.sources.add({ id: 'direct', kind: 'direct', label: 'direct', dialer: 'direct', local: true }));
  }
  for (const source of sources) context.subscriptions.push(context.sources.add(source));
}
