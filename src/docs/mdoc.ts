/**
 * What the man page generators share: escaping text for mdoc(7), one sentence per line, and
 * filling a template's `.\" @@NAME@@` markers. The templates (man/src/*.in) hold the prose
 * that cannot be generated; src/docs/man-cli.ts and man-config.ts write the rest.
 */

/** Escapes text for an mdoc text line: backslashes, and a leading dot or quote. */
export function text(s: string): string {
  const escaped = s.replace(/\\/g, '\\e');
  return /^[.']/.test(escaped) ? `\\&${escaped}` : escaped;
}

/** One macro argument: quoted when it has blanks, quotes as \(dq, a lone delimiter kept literal. */
export function arg(s: string): string {
  const escaped = s.replace(/\\/g, '\\e').replace(/"/g, '\\(dq');
  if (escaped === '') return '""';
  if (/^[.,:;()[\]?!|]$/.test(escaped)) return `\\&${escaped}`;
  return /\s/.test(escaped) ? `"${escaped}"` : escaped;
}

/** Prose as text lines: each sentence on a new line (mandoc warns otherwise), wrapped at 80 columns. */
export function sentences(prose: string): string[] {
  return prose
    .trim()
    .split(/(?<=[.!?])\s+(?=[A-Z0-9`"'(<-])/)
    .flatMap((s) => wrap(s.split(/\s+/)).map(text));
}

function wrap(words: readonly string[]): string[] {
  const lines: string[] = [];
  let line = '';
  for (const w of words) {
    if (line !== '' && line.length + 1 + w.length > 79) {
      lines.push(line);
      line = w;
    } else {
      line = line === '' ? w : `${line} ${w}`;
    }
  }
  if (line !== '') lines.push(line);
  return lines;
}

/** Lines of a literal display: only backslashes and leading dots need escaping there. */
export function literal(lines: readonly string[]): string[] {
  return ['.Bd -literal -offset indent', ...lines.map(text), '.Ed'];
}

const MARKER = /^\.\\" @@([A-Z][A-Z -]*)@@$/;

/** Replaces each `.\" @@NAME@@` line of `template` with `sections[NAME]`; a marker without a section, or a section without a marker, is an error. */
export function fill(template: string, sections: Readonly<Record<string, readonly string[]>>, header: string): string {
  const used = new Set<string>();
  const out = [header];
  for (const line of template.split('\n')) {
    const m = MARKER.exec(line);
    if (m === null) {
      out.push(line);
      continue;
    }
    const name = m[1] as string;
    const lines = sections[name];
    if (lines === undefined) throw new Error(`template marker @@${name}@@ has no generated section`);
    used.add(name);
    out.push(...lines);
  }
  const unused = Object.keys(sections).filter((k) => !used.has(k));
  if (unused.length > 0) throw new Error(`the template has no marker for ${unused.map((k) => `@@${k}@@`).join(', ')}`);
  return out.join('\n');
}

/**
 * Takes the `.\" @@begin KIND NAME@@` … `.\" @@end@@` blocks of a template out, by name:
 * prose written by hand that the generator places (for example, notes for one command).
 */
export function takeBlocks(template: string, kind: string): { rest: string; blocks: Map<string, string[]> } {
  const blocks = new Map<string, string[]>();
  const rest: string[] = [];
  let current: string[] | null = null;
  const begin = new RegExp(`^\\.\\\\" @@begin ${kind} (\\S+)@@$`);
  for (const line of template.split('\n')) {
    const m = begin.exec(line);
    if (m !== null) {
      current = [];
      blocks.set(m[1] as string, current);
    } else if (current !== null && line === '.\\" @@end@@') {
      current = null;
    } else {
      (current ?? rest).push(line);
    }
  }
  if (current !== null) throw new Error(`a @@begin ${kind}@@ block has no @@end@@`);
  return { rest: rest.join('\n'), blocks };
}
