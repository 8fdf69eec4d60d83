/**
 * Kubernetes' `$(VAR)` expansion for container command, args and env values
 * (k8s.io/kubernetes third_party/forked/golang/expansion), reimplemented:
 *
 * - `$(NAME)` is replaced by NAME's value when NAME is defined (even when empty);
 * - `$(NAME)` with an undefined NAME stays verbatim;
 * - `$$` is an escaped `$`: `$$(NAME)` gives the literal `$(NAME)`, `$$$(A)` gives `$` + A's value;
 * - a `$` followed by anything else (`$VAR`, `${VAR}`, `$?`) stays verbatim, and so does a `$` at the end;
 * - an unclosed `$(` stays verbatim (scanning resumes right after the `(`);
 * - there is no nesting: `$(A$(B))` looks up the name `A$(B`.
 *
 * The expansion is single-pass: a value that itself contains `$(X)` is not expanded again.
 */
export function expandVars(text: string, env: Record<string, string>): string {
  // Fast path: nothing to expand.
  if (!text.includes('$')) return text;
  let out = '';
  let checkpoint = 0;
  for (let cursor = 0; cursor < text.length; cursor++) {
    if (text[cursor] !== '$' || cursor + 1 >= text.length) continue;
    out += text.slice(checkpoint, cursor);
    const next = text[cursor + 1];
    if (next === '$') {
      // Escaped operator.
      out += '$';
      cursor += 1;
    } else if (next === '(') {
      const close = text.indexOf(')', cursor + 2);
      if (close === -1) {
        // Incomplete reference: keep `$(` and go on scanning after it.
        out += '$(';
        cursor += 1;
      } else {
        const name = text.slice(cursor + 2, close);
        out += Object.prototype.hasOwnProperty.call(env, name) ? env[name] : `$(${name})`;
        cursor = close;
      }
    } else {
      // A `$` that does not start an expression: keep it and the character after it.
      out += '$' + next;
      cursor += 1;
    }
    checkpoint = cursor + 1;
  }
  return out + text.slice(checkpoint);
}
