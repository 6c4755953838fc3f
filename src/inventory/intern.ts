// One copy of equal values, for data held per object or per workload.
//
// A 150,000-pod dump repeats the same values tens of thousands of times: `JSON.parse` makes a new string for
// every kind, apiVersion and namespace; the pods of one ReplicaSet carry equal owner lists and (once pruned)
// equal specs; the token verdicts of one ServiceAccount's workloads repeat the same sentences and container
// lists. Sharing them took the inventory's strings from ~90 B per object to one copy, and the verdicts from
// 79 to 57 MB at T4. Values handed out are shared, so they are read-only: lists made here are frozen.

export class Interner {
  private readonly strings = new Map<string, string>();
  /** Values by their JSON text (lists and byContent share it: equal text, equal content). */
  private readonly byJson = new Map<string, unknown>();
  private readonly limit: number;

  /** `limit`: how many distinct values to keep; past it, new values are handed back unshared. */
  constructor(limit = Infinity) {
    this.limit = limit;
  }

  /** The kept string equal to `s` (`s` itself the first time). */
  string(s: string): string {
    return keep(this.strings, s, s, this.limit);
  }

  /** The kept value with the same JSON text as `v` (`v` itself the first time). */
  byContent<T>(v: T): T {
    return keep(this.byJson, JSON.stringify(v), v, this.limit);
  }

  /** A frozen list equal to `items`, shared by every equal list. */
  list(items: readonly string[]): string[] {
    const key = JSON.stringify(items); // unambiguous for any strings, unlike a join
    const hit = this.byJson.get(key) as string[] | undefined;
    return hit ?? keep(this.byJson, key, Object.freeze([...items]) as string[], this.limit);
  }

  clear(): void {
    this.strings.clear();
    this.byJson.clear();
  }
}

function keep<T>(map: Map<string, unknown>, key: string, v: T, limit: number): T {
  const hit = map.get(key);
  if (hit !== undefined) return hit as T;
  if (map.size < limit) map.set(key, v);
  return v;
}

const perOwner = new WeakMap<object, Interner>();

/** An interner that shares nothing: each value is handed back as is (lists as frozen copies). */
class PassThrough extends Interner {
  override string(s: string): string {
    return s;
  }

  override byContent<T>(v: T): T {
    return v;
  }

  override list(items: readonly string[]): string[] {
    return Object.freeze([...items]) as string[];
  }
}

/**
 * From now on, `internerFor(owner)` shares nothing. For a scan that writes each verdict out as soon as it is made
 * (analysis/streamed-json.ts): sharing saves memory only while verdicts are kept, and the kept values (a few
 * sentences and lists per ServiceAccount) would otherwise grow until the end.
 */
export function stopInterning(owner: object): void {
  perOwner.set(owner, new PassThrough(0));
}

/** The interner that lives as long as `owner` (an inventory): values are shared within one scan only. */
export function internerFor(owner: object): Interner {
  let i = perOwner.get(owner);
  if (i === undefined) perOwner.set(owner, (i = new Interner()));
  return i;
}
