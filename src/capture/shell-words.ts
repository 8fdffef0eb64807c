/**
 * Splits a command line the way a POSIX shell splits words, without running a
 * shell: `--reproduce 'curl -sv http://httpbin:8000/get'` becomes the argv
 * passed to `kubectl exec -- ...` (an argument array, never a shell string:
 * design.md "Talking to a cluster"). Supports single quotes, double quotes
 * (with \" \\ \$ \` escapes), and backslash escapes outside quotes. No
 * globbing, variables or substitutions: `$HOME` stays `$HOME`.
 */

export class ShellWordsError extends Error {}

export function shellWords(line: string): string[] {
  const words: string[] = [];
  let current = '';
  let inWord = false;
  let i = 0;
  const n = line.length;
  while (i < n) {
    const c = line[i];
    if (c === ' ' || c === '\t' || c === '\n') {
      if (inWord) {
        words.push(current);
        current = '';
        inWord = false;
      }
      i++;
      continue;
    }
    inWord = true;
    if (c === "'") {
      const end = line.indexOf("'", i + 1);
      if (end < 0) throw new ShellWordsError(`unterminated single quote at character ${i + 1}`);
      current += line.slice(i + 1, end);
      i = end + 1;
    } else if (c === '"') {
      i++;
      let closed = false;
      while (i < n) {
        const d = line[i];
        if (d === '"') {
          closed = true;
          i++;
          break;
        }
        if (d === '\\' && i + 1 < n && '"\\$`\n'.includes(line[i + 1])) {
          if (line[i + 1] !== '\n') current += line[i + 1];
          i += 2;
          continue;
        }
        current += d;
        i++;
      }
      if (!closed) throw new ShellWordsError('unterminated double quote');
    } else if (c === '\\') {
      if (i + 1 >= n) throw new ShellWordsError('a trailing backslash escapes nothing');
      if (line[i + 1] !== '\n') current += line[i + 1];
      i += 2;
    } else {
      current += c;
      i++;
    }
  }
  if (inWord) words.push(current);
  return words;
}

/** Quotes one word so that shellWords gives it back unchanged (the quoting used for every command line we print). */
export { shellQuote as quoteWord } from '../sources/shell-quote.js';
