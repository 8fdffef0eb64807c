/**
 * Quotes one word for a POSIX shell: the quoting of every command line we
 * print (provenance, "run this next"). Its own module, free of imports, so an
 * offline run that prints a command line does not evaluate execa with kubectl.ts.
 */
export function shellQuote(word: string): string {
  return /^[\w@%+=:,./-]+$/.test(word) ? word : `'${word.replace(/'/g, `'\\''`)}'`;
}
