/**
 * Target regexes are written in Python syntax. This translates the Python-only constructs
 * that have a JavaScript equivalent and rejects the ones that would silently change meaning.
 */

export interface CompiledRegex {
  source: string;
  regex: RegExp;
}

const LEADING_FLAGS = /^\(\?([a-zA-Z]+)\)/;
const FLAG_MAP: Record<string, string> = { i: 'i', m: 'm', s: 's' };

/** Compiles a config regex, or returns `Invalid regex '<re>': <reason>`. */
export function compileTargetRegex(source: string): CompiledRegex | { error: string } {
  const fail = (reason: string) => ({ error: `Invalid regex '${source}': ${reason}` });
  let body = source;
  let flags = '';
  const leading = LEADING_FLAGS.exec(body);
  if (leading) {
    for (const letter of leading[1] ?? '') {
      const flag = FLAG_MAP[letter];
      if (flag === undefined) return fail(`the inline flag '${letter}' is not supported`);
      if (!flags.includes(flag)) flags += flag;
    }
    body = body.slice(leading[0].length);
  }
  const translated = translateBody(body);
  if (typeof translated !== 'string') return fail(translated.error);
  try {
    return { source, regex: new RegExp(translated, flags) };
  } catch (err) {
    return fail(syntaxReason(err));
  }
}

/** Walks the pattern once, keeping escapes and character classes intact. */
function translateBody(body: string): string | { error: string } {
  let out = '';
  let inClass = false;
  for (let i = 0; i < body.length; i += 1) {
    const char = body[i] as string;
    if (char === '\\') {
      const next = body[i + 1] ?? '';
      out += inClass ? `\\${next}` : translateEscape(next);
      i += 1;
      continue;
    }
    if (inClass) {
      if (char === ']') inClass = false;
      out += char;
      continue;
    }
    if (char === '[') {
      inClass = true;
      out += char;
      // A `]` right after `[` or `[^` is a literal in both dialects.
      if (body[i + 1] === '^') out += body[++i];
      if (body[i + 1] === ']') out += `\\${body[++i]}`;
      continue;
    }
    if (char === '(' && body[i + 1] === '?') {
      const group = translateGroupStart(body, i);
      if (typeof group !== 'string') return group;
      out += group;
      i += groupStartLength(body, i) - 1;
      continue;
    }
    out += char;
  }
  return out;
}

function translateEscape(next: string): string {
  // Python's \A and \Z anchor at the ends of the string whatever the flags; in JavaScript they
  // would be plain letters, so they become lookarounds that match only there.
  if (next === 'A') return '(?<![\\s\\S])';
  if (next === 'Z') return '(?![\\s\\S])';
  return `\\${next}`;
}

function translateGroupStart(body: string, index: number): string | { error: string } {
  const rest = body.slice(index);
  if (rest.startsWith('(?P<')) return '(?<';
  const backReference = /^\(\?P=([A-Za-z_][A-Za-z0-9_]*)\)/.exec(rest);
  if (backReference) return `\\k<${backReference[1]}>`;
  if (/^\(\?[aiLmsux]+[):-]/.test(rest)) {
    return { error: "inline flags are only supported at the start of the pattern, such as '(?i)'" };
  }
  if (rest.startsWith('(?#')) return { error: "comment groups '(?#...)' are not supported" };
  if (rest.startsWith('(?('))
    return { error: "conditional groups '(?(...)...)' are not supported" };
  return '(?';
}

function groupStartLength(body: string, index: number): number {
  const rest = body.slice(index);
  if (rest.startsWith('(?P<')) return 4;
  const backReference = /^\(\?P=[A-Za-z_][A-Za-z0-9_]*\)/.exec(rest);
  if (backReference) return backReference[0].length;
  return 2;
}

function syntaxReason(err: unknown): string {
  const message = err instanceof Error ? err.message : String(err);
  // V8 writes `Invalid regular expression: /<pattern>/<flags>: <reason>`.
  const match = /^Invalid regular expression: \/.*\/[a-z]*: (.*)$/s.exec(message);
  return match ? (match[1] ?? message) : message;
}
