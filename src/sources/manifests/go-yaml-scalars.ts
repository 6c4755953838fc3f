// Plain-scalar resolution exactly as Kubernetes reads manifests.
//
// kubectl (cli-runtime StreamVisitor) and the API server decode YAML with apimachinery's
// NewYAMLOrJSONDecoder → sigs.k8s.io/yaml (v1.6.0 in Kubernetes 1.36) → go.yaml.in/yaml/v2 (go-yaml v2
// semantics) into interface{}, then convert to JSON. So the rules here follow go-yaml v2 resolve.go
// (`resolve`, `resolveMapList`) and decode.go (`scalar`), and test/fixtures/manifests/go-yaml pins them
// against that real decoder. The `yaml` package's `version: '1.1'` schema has the same boolean set but
// differs elsewhere: it reads `1:20` as 80 (sexagesimal; kubectl: the string "1:20"), `0o17` as a string
// (kubectl: 15), `2001-12-14` as a Date (kubectl: the string), `.inf` as Infinity (kubectl: an error) and
// `1e400` as Infinity (kubectl: the string "1e400").

/** What a scalar becomes in the JSON Kubernetes sees. `error` = sigs.k8s.io/yaml refuses the document. */
export type ResolvedScalar =
  | { kind: 'string'; value: string }
  | { kind: 'bool'; value: boolean }
  | { kind: 'null' }
  | { kind: 'int'; value: number }
  | { kind: 'float'; value: number }
  | { kind: 'error'; message: string };

// resolveMapList of goyaml.v2/resolve.go: exact spellings, nothing case-insensitive.
const BOOL_TRUE = new Set(['y', 'Y', 'yes', 'Yes', 'YES', 'true', 'True', 'TRUE', 'on', 'On', 'ON']);
const BOOL_FALSE = new Set(['n', 'N', 'no', 'No', 'NO', 'false', 'False', 'FALSE', 'off', 'Off', 'OFF']);
const NULLS = new Set(['', '~', 'null', 'Null', 'NULL']);
const NAN = new Set(['.nan', '.NaN', '.NAN']);
const POS_INF = new Set(['.inf', '.Inf', '.INF', '+.inf', '+.Inf', '+.INF']);
const NEG_INF = new Set(['-.inf', '-.Inf', '-.INF']);

/** The spellings go-yaml v2 reads as booleans (for tests and the non-canonical-boolean rule). */
export const GO_YAML_BOOL_SPELLINGS: { readonly true: readonly string[]; readonly false: readonly string[] } = {
  true: [...BOOL_TRUE],
  false: [...BOOL_FALSE],
};

// resolve.go: yamlStyleFloat
const YAML_STYLE_FLOAT = /^[-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?$/;
// Go time.Parse layouts of allowedTimestampFormats only matter for "is it a timestamp": go-yaml keeps
// the original text when decoding a timestamp into interface{} (decode.go, "for backward compatibility
// reasons we set it as a string"), so a timestamp is a string either way. No need to detect them.

const INT64_MAX = 2n ** 63n - 1n;
const INT64_MIN = -(2n ** 63n);
const UINT64_MAX = 2n ** 64n - 1n;

/**
 * Go's strconv.ParseInt(s, 0, 64) / ParseUint(s, 0, 64) syntax (after go-yaml removed every `_`):
 * optional sign (ParseInt only), then `0x`/`0X` hex, `0o`/`0O` or leading `0` octal, `0b`/`0B` binary,
 * else decimal. Returns undefined when the syntax is not an integer; a bigint otherwise.
 */
function parseGoInt(s: string, signed: boolean): bigint | undefined {
  let i = 0;
  let neg = false;
  if (signed && (s[0] === '+' || s[0] === '-')) {
    neg = s[0] === '-';
    i = 1;
  }
  let body = s.slice(i);
  if (body === '') return undefined;
  let re: RegExp;
  let prefix = '';
  if (/^0[xX]/.test(body)) {
    body = body.slice(2);
    re = /^[0-9a-fA-F]+$/;
    prefix = '0x';
  } else if (/^0[oO]/.test(body)) {
    body = body.slice(2);
    re = /^[0-7]+$/;
    prefix = '0o';
  } else if (/^0[bB]/.test(body)) {
    body = body.slice(2);
    re = /^[01]+$/;
    prefix = '0b';
  } else if (body.length > 1 && body[0] === '0') {
    body = body.slice(1);
    re = /^[0-7]+$/;
    prefix = '0o';
  } else {
    re = /^[0-9]+$/;
  }
  if (!re.test(body)) return undefined;
  const v = BigInt(prefix + body);
  return neg ? -v : v;
}

function intResult(v: bigint): ResolvedScalar {
  return { kind: 'int', value: Number(v) };
}

/**
 * Resolves an untagged plain scalar the way goyaml.v2 `resolve("", in)` does. Quoted and block
 * scalars are always strings (decode.go: a non-implicit scalar without tag is !!str).
 */
export function resolvePlainScalar(input: string): ResolvedScalar {
  if (input === '') return { kind: 'null' };
  const c = input.charCodeAt(0);
  // resolveTable hints: sign, digit, one of "yYnNtTfFoO~", or '.'; anything else is a string.
  const isDigit = c >= 48 && c <= 57;
  const isSign = c === 43 || c === 45;
  const isMapHint = 'yYnNtTfFoO~'.includes(input[0]!);
  const isDot = c === 46;
  if (!isDigit && !isSign && !isMapHint && !isDot) return { kind: 'string', value: input };

  if (BOOL_TRUE.has(input)) return { kind: 'bool', value: true };
  if (BOOL_FALSE.has(input)) return { kind: 'bool', value: false };
  if (NULLS.has(input)) return { kind: 'null' };
  // NaN and ±Inf are floats; as values encoding/json cannot marshal them (the caller reports it), as
  // map keys sigs.k8s.io/yaml spells them `.nan`, `.inf`, `-.inf`.
  if (NAN.has(input)) return { kind: 'float', value: NaN };
  if (POS_INF.has(input)) return { kind: 'float', value: Infinity };
  if (NEG_INF.has(input)) return { kind: 'float', value: -Infinity };
  if (isMapHint) return { kind: 'string', value: input };

  if (isDot) {
    // strconv.ParseFloat(in, 64) on the raw text: decimal forms only start with '.' here.
    if (/^\.[0-9]+([eE][-+]?[0-9]+)?$/.test(input) && Number.isFinite(Number(input))) return { kind: 'float', value: Number(input) };
    return { kind: 'string', value: input };
  }

  // 'D' or 'S': timestamp (kept as its text), int, uint, float, binary.
  if (/^[0-9]{4}-/.test(input) && looksLikeGoYamlTimestamp(input)) return { kind: 'string', value: input };
  const plain = input.replaceAll('_', '');
  const asInt = parseGoInt(plain, true);
  if (asInt !== undefined) {
    if (asInt >= INT64_MIN && asInt <= INT64_MAX) return intResult(asInt);
    // ParseInt failed with ErrRange: ParseUint may still take it; else big.Int SetString(plain, 0).
    if (asInt > 0n && asInt <= UINT64_MAX) return intResult(asInt);
    return intResult(asInt);
  }
  // strconv.ParseFloat fails with ErrRange beyond float64 (`1e400`): go-yaml then keeps the text.
  if (YAML_STYLE_FLOAT.test(plain) && Number.isFinite(Number(plain))) return { kind: 'float', value: Number(plain) };
  if (plain.startsWith('0b')) {
    const b = /^[01]+$/.test(plain.slice(2)) ? BigInt('0b' + plain.slice(2)) : undefined;
    if (b !== undefined) return intResult(b);
  } else if (plain.startsWith('-0b')) {
    const b = /^[01]+$/.test(plain.slice(3)) ? -BigInt('0b' + plain.slice(3)) : undefined;
    if (b !== undefined) return intResult(b);
  }
  return { kind: 'string', value: input };
}

/**
 * goyaml.v2 parseTimestamp: four digits, '-', then one of the allowed layouts. Only used so that a
 * timestamp-looking value such as `2001-12-14` is not mistaken for something else; the result is its
 * text either way, so an approximate match is harmless.
 */
function looksLikeGoYamlTimestamp(s: string): boolean {
  return /^[0-9]{4}-[0-9]{1,2}-[0-9]{1,2}([Tt ][0-9]{1,2}:[0-9]{1,2}:[0-9]{1,2}(\.[0-9]+)?(Z|[-+][0-9]{2}:[0-9]{2})?)?$/.test(s);
}

/**
 * Resolves a scalar with an explicit standard tag (`!!str`, `!!int`, …) as goyaml.v2 does: the value
 * must resolve to the tag's type (an int is accepted as a float), otherwise decoding fails.
 */
export function resolveTaggedScalar(tag: string, input: string, plain: boolean): ResolvedScalar {
  const short = tag.startsWith('tag:yaml.org,2002:') ? '!!' + tag.slice('tag:yaml.org,2002:'.length) : tag;
  switch (short) {
    case '!!str':
      return { kind: 'string', value: input };
    case '!!binary': {
      // decode.go: !!binary is base64-decoded; into interface{} it becomes a Go string of those bytes.
      const b = Buffer.from(input.replace(/\s+/g, ''), 'base64');
      return { kind: 'string', value: b.toString('utf8') };
    }
    case '!!bool':
    case '!!int':
    case '!!float':
    case '!!null':
    case '!!timestamp': {
      const r = resolvePlainScalar(input);
      const want = short.slice(2);
      if (r.kind === 'error') return r;
      if (want === 'timestamp') {
        if (r.kind === 'string' && looksLikeGoYamlTimestamp(input)) return r;
      } else if (r.kind === want || (want === 'float' && r.kind === 'int')) {
        return r;
      }
      void plain;
      return { kind: 'error', message: `cannot decode ${describe(r)} \`${input}\` as a ${short}` };
    }
    default:
      // Non-standard tags (`!foo`) are not resolvable: go-yaml keeps the text.
      return { kind: 'string', value: input };
  }
}

function describe(r: ResolvedScalar): string {
  switch (r.kind) {
    case 'string': return '!!str';
    case 'bool': return '!!bool';
    case 'null': return '!!null';
    case 'int': return '!!int';
    case 'float': return '!!float';
    default: return '!!str';
  }
}
