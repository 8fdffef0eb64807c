/**
 * Descriptions are written as source text, wrapped at ~100 columns; oclif
 * wraps again to the terminal, so a source line break would show as a short
 * line mid-paragraph. Paragraphs (blank line) and list items stay.
 */
export function prose(text: string): string {
  return text.split(/\n{2,}/).map((paragraph) => paragraph.replace(/\n(?![-*] |\s)/g, ' ')).join('\n\n');
}

/** Rewrites a command class's description as prose (once per class, for the command map and the single executable's loaders alike). */
export function proseDescription(command: { description?: string }): void {
  if (command.description) command.description = prose(command.description);
}
