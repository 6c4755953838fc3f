// The go-yaml/kubectl differential cases: fixture text split on `####` lines.
export function splitCases(text: string): string[] {
  const parts = text.split(/^####\n/m);
  return parts.slice(1);
}
