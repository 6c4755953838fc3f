// --min-window values: a number of days (fractions allowed) or a duration with a unit, so that short test
// windows (`10m`) and long ones (`2w`) read naturally.
const UNIT_SECONDS: Record<string, number> = { s: 1, m: 60, h: 3_600, d: 86_400, w: 604_800 };

/** `7`, `0.5`, `7d`, `12h`, `10m`, `30s`, `2w`, `1h30m` → days; undefined when it is none of these. */
export function parseWindowDays(text: string): number | undefined {
  const t = text.trim();
  if (/^\d+(\.\d+)?$/.test(t)) return Number(t);
  const re = /(\d+(?:\.\d+)?)([smhdw])/g;
  let seconds = 0;
  let consumed = 0;
  for (let m = re.exec(t); m; m = re.exec(t)) {
    if (m.index !== consumed) return undefined;
    seconds += Number(m[1]) * UNIT_SECONDS[m[2]!]!;
    consumed = m.index + m[0].length;
  }
  return consumed === t.length && consumed > 0 ? seconds / 86_400 : undefined;
}

/** `7 days`, `1.5 days`, `3 hours`, `10 minutes`, `45 seconds`. */
export function formatDays(days: number): string {
  const round = (x: number): string => (Math.round(x * 10) / 10).toString();
  if (days >= 1) return `${round(days)} day${round(days) === '1' ? '' : 's'}`;
  if (days * 24 >= 1) return `${round(days * 24)} hour${round(days * 24) === '1' ? '' : 's'}`;
  if (days * 1440 >= 1) return `${round(days * 1440)} minute${round(days * 1440) === '1' ? '' : 's'}`;
  return `${round(days * 86_400)} seconds`;
}
