import type { PluginContext, SourceDescriptor } from 'booster';
import { DirectDialer } from './dialer';
import { resolveInterfaceSources } from './interfaces';
import { probeOptions, startProbing } from './probe';

const DIRECT: SourceDescriptor = { id: 'direct', kind: 'direct', label: 'direct', dialer: 'direct', local: true };

export async function activate(context: PluginContext): Promise<void> {
  context.subscriptions.push(context.dialers.register(new DirectDialer()));
  const probe = probeOptions(context.options.probe);
  let sources: SourceDescriptor[] = [DIRECT];
  if (context.node.interfaces.length > 0) {
    const routeProbe = typeof context.options.routeProbe === 'string' ? context.options.routeProbe : undefined;
    const found = await resolveInterfaceSources(context.node.interfaces, routeProbe);
    for (const problem of found.problems) context.log.warn(problem);
    if (found.sources.length > 0) sources = found.sources;
    else context.log.warn('no usable local interface address; falling back to the direct source');
  }
  for (const source of sources) context.subscriptions.push(context.sources.add(source));
  if (probe) context.subscriptions.push(startProbing(sources, context.sources, probe));
}
