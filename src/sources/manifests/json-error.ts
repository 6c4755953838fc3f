// Where and why a JSON text is invalid, for a `file:line` message. V8's JSON.parse messages sometimes
// carry no position and quote the input (which may hold Secret data), so on a parse failure the text
// is re-checked by this small validator, which reports the first offending offset without the input.

export interface JsonSyntaxError {
  offset: number;
  message: string;
}

const WS = new Set([0x20, 0x0a, 0x0d, 0x09]);

export function findJsonSyntaxError(text: string): JsonSyntaxError | undefined {
  let i = 0;
  const n = text.length;
  const err = (message: string, at = i): never => {
    throw { offset: at, message } satisfies JsonSyntaxError;
  };
  const ws = () => {
    while (i < n && WS.has(text.charCodeAt(i))) i++;
  };
  const describe = () => (i >= n ? 'end of input' : `'${text[i]}'`);
  const string = () => {
    i++;
    for (;;) {
      if (i >= n) err('unterminated string');
      const c = text.charCodeAt(i);
      if (c === 0x22) {
        i++;
        return;
      }
      if (c < 0x20) err('control character in string');
      if (c === 0x5c) {
        const e = text[i + 1];
        if (e === 'u') {
          if (!/^[0-9a-fA-F]{4}$/.test(text.slice(i + 2, i + 6))) err('bad \\u escape');
          i += 6;
        } else if (e !== undefined && '"\\/bfnrt'.includes(e)) i += 2;
        else err('bad escape in string');
      } else i++;
    }
  };
  const value = (depth: number): void => {
    if (depth > 10000) err('nesting too deep');
    ws();
    const c = text[i];
    if (c === '{') {
      i++;
      ws();
      if (text[i] === '}') {
        i++;
        return;
      }
      for (;;) {
        ws();
        if (text[i] !== '"') err(`expected a property name, found ${describe()}`);
        string();
        ws();
        if (text[i] !== ':') err(`expected ':' after property name, found ${describe()}`);
        i++;
        value(depth + 1);
        ws();
        if (text[i] === ',') {
          i++;
          continue;
        }
        if (text[i] === '}') {
          i++;
          return;
        }
        err(`expected ',' or '}' after property value, found ${describe()}`);
      }
    }
    if (c === '[') {
      i++;
      ws();
      if (text[i] === ']') {
        i++;
        return;
      }
      for (;;) {
        value(depth + 1);
        ws();
        if (text[i] === ',') {
          i++;
          continue;
        }
        if (text[i] === ']') {
          i++;
          return;
        }
        err(`expected ',' or ']' after array element, found ${describe()}`);
      }
    }
    if (c === '"') return string();
    const m = /^(?:-?(?:0|[1-9][0-9]*)(?:\.[0-9]+)?(?:[eE][-+]?[0-9]+)?|true|false|null)/.exec(text.slice(i, i + 400));
    if (!m) err(`unexpected ${describe()}`);
    i += m![0].length;
  };
  try {
    value(0);
    ws();
    if (i < n) err(`unexpected ${describe()} after the JSON value`);
    return undefined;
  } catch (e) {
    if (typeof e === 'object' && e !== null && 'offset' in e) return e as JsonSyntaxError;
    throw e;
  }
}
