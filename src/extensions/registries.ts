import type { ContributionKind } from '../api/plugin';
import type { Registry } from '../kernel/registry';
import type { ContributionRegistry } from './contributions';

/** What a Registry needs of the host: activation by contribution, and the manifests' declarations. */
export interface Activator {
  activateContribution(kind: ContributionKind, id: string): Promise<boolean>;
  declared(kind: ContributionKind): string[];
  declarer(kind: ContributionKind, id: string): string | undefined;
}

/** A Registry<T> over one kind's live registrations that activates the declaring plugin on first ask. */
export class ActivatingRegistry<T> implements Registry<T> {
  constructor(
    private readonly live: ContributionRegistry<T>,
    private readonly host: Activator,
  ) {}

  get(id: string): T | undefined {
    return this.live.get(id);
  }

  async load(id: string): Promise<T | undefined> {
    return this.live.get(id) ?? ((await this.host.activateContribution(this.live.kind, id)) ? this.live.get(id) : undefined);
  }

  ids(): string[] {
    return this.live.ids();
  }

  ownerOf(id: string): string | undefined {
    return this.live.ownerOf(id);
  }

  declared(): string[] {
    return this.host.declared(this.live.kind);
  }

  declarer(id: string): string | undefined {
    return this.host.declarer(this.live.kind, id);
  }
}
