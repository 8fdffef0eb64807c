import Table from 'cli-table3';

/**
 * A borderless, left-aligned table like istioctl's (Go's tabwriter with two
 * spaces of padding), built with cli-table3. No header colour: cli-table3's
 * red headers are off unless asked for.
 */
export function plainTable(head: string[], rows: string[][], options: { headStyle?: (s: string) => string } = {}): string {
  const table = new Table({
    head: head.map((h) => options.headStyle?.(h) ?? h),
    chars: {
      top: '', 'top-mid': '', 'top-left': '', 'top-right': '',
      bottom: '', 'bottom-mid': '', 'bottom-left': '', 'bottom-right': '',
      left: '', 'left-mid': '', mid: '', 'mid-mid': '',
      right: '', 'right-mid': '', middle: '  ',
    },
    style: { head: [], border: [], 'padding-left': 0, 'padding-right': 0, compact: true },
  });
  for (const row of rows) table.push(row);
  return table.toString().split('\n').map((line) => line.trimEnd()).join('\n');
}
