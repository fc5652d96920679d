import 'reflect-metadata';
import { injectable } from 'tsyringe';
import type { Dialer } from '../api/dialer';
import { toDisposable, type Disposable } from '../api/disposable';
import { Emitter, type Event } from '../api/event';
import type { Monitor } from '../api/monitor';
import type { ContributionKind } from '../api/plugin';
import type { PolicyFactory } from '../api/policy';
import type { Transport } from '../api/transport';

interface Entry<T> {
  readonly owner: string;
  readonly value: T;
}

/** Thrown when a plugin registers an id that another registration already holds. */
export class ContributionConflictError extends Error {
  constructor(
    readonly kind: ContributionKind,
    readonly id: string,
    readonly owner: string,
    readonly holder: string,
  ) {
    super(`${kind} id "${id}" is already registered by ${holder}`);
    this.name = 'ContributionConflictError';
  }
}

/** Live registrations of one contribution kind: id → implementation, with the owning plugin. */
export class ContributionRegistry<T> {
  private readonly entries = new Map<string, Entry<T>>();
  private readonly changed = new Emitter<{ id: string; change: 'registered' | 'unregistered' }>();
  readonly onDidChange: Event<{ id: string; change: 'registered' | 'unregistered' }> = this.changed.event;

  constructor(readonly kind: ContributionKind) {}

  register(owner: string, id: string, value: T): Disposable {
    const existing = this.entries.get(id);
    if (existing) throw new ContributionConflictError(this.kind, id, owner, existing.owner);
    const entry = { owner, value };
    this.entries.set(id, entry);
    this.changed.fire({ id, change: 'registered' });
    return toDisposable(() => {
      if (this.entries.get(id) === entry) {
        this.entries.delete(id);
        this.changed.fire({ id, change: 'unregistered' });
      }
    });
  }

  get(id: string): T | undefined {
    return this.entries.get(id)?.value;
  }

  ownerOf(id: string): string | undefined {
    return this.entries.get(id)?.owner;
  }

  has(id: string): boolean {
    return this.entries.has(id);
  }

  ids(): string[] {
    return [...this.entries.keys()];
  }

  values(): T[] {
    return [...this.entries.values()].map((e) => e.value);
  }
}

/** The contribution registries every plugin registers into. */
@injectable()
export class Contributions {
  readonly policies = new ContributionRegistry<PolicyFactory>('policies');
  readonly dialers = new ContributionRegistry<Dialer>('dialers');
  readonly transports = new ContributionRegistry<Transport>('transports');
  readonly monitors = new ContributionRegistry<Monitor>('monitors');
}
