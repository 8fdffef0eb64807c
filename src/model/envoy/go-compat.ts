/**
 * Small re-implementations of Go standard-library behaviour that istioctl's
 * output depends on, so a table printed here matches istioctl's byte for byte:
 *
 * - `goSortSlice`: Go's `sort.Slice` is NOT stable. Since Go 1.19 it is
 *   pattern-defeating quicksort (src/sort/zsortfunc.go, pdqsort_func) with
 *   insertion sort below 13 elements; rows with equal sort keys come out in
 *   the order that algorithm leaves them, so the same algorithm is needed
 *   here. The xorshift used to break patterns is Go >= 1.21's (13, 7, 17).
 * - `goStringLess`: Go compares strings bytewise (UTF-8), i.e. by code point;
 *   JavaScript's `<` compares UTF-16 code units.
 * - `tabwriterFormat`: text/tabwriter with istioctl's settings
 *   (minwidth 0, tabwidth 8, padding 1, padchar ' ', flags 0).
 */

/** Go's `a < b` for strings (UTF-8 byte order == code point order). */
export function goStringLess(a: string, b: string): boolean {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) {
    const x = a.charCodeAt(i);
    const y = b.charCodeAt(i);
    if (x === y) continue;
    // Surrogates (0xD800-0xDFFF) encode code points above 0xFFFF, which sort after 0xE000-0xFFFF.
    const xs = x >= 0xd800 && x <= 0xdfff;
    const ys = y >= 0xd800 && y <= 0xdfff;
    // A surrogate stands for a code point above 0xFFFF, greater than any BMP character.
    if (xs !== ys) return ys;
    return x < y;
  }
  return a.length < b.length;
}

interface LessSwap {
  less(i: number, j: number): boolean;
  swap(i: number, j: number): void;
}

/** bits.Len(uint(n)) */
function bitsLen(n: number): number {
  return n <= 0 ? 0 : 32 - Math.clz32(n);
}

/** Sorts `items` in place exactly as Go's `sort.Slice(items, less)` would. */
export function goSortSlice<T>(items: T[], less: (a: T, b: T) => boolean): void {
  const n = items.length;
  if (n <= 1) return;
  const data: LessSwap = {
    less: (i, j) => less(items[i]!, items[j]!),
    swap: (i, j) => {
      const t = items[i]!;
      items[i] = items[j]!;
      items[j] = t;
    },
  };
  pdqsort(data, 0, n, bitsLen(n));
}

function insertionSort(d: LessSwap, a: number, b: number): void {
  for (let i = a + 1; i < b; i++) {
    for (let j = i; j > a && d.less(j, j - 1); j--) d.swap(j, j - 1);
  }
}

function siftDown(d: LessSwap, lo: number, hi: number, first: number): void {
  let root = lo;
  for (;;) {
    let child = 2 * root + 1;
    if (child >= hi) return;
    if (child + 1 < hi && d.less(first + child, first + child + 1)) child++;
    if (!d.less(first + root, first + child)) return;
    d.swap(first + root, first + child);
    root = child;
  }
}

function heapSort(d: LessSwap, a: number, b: number): void {
  const first = a;
  const hi = b - a;
  for (let i = Math.trunc((hi - 1) / 2); i >= 0; i--) siftDown(d, i, hi, first);
  for (let i = hi - 1; i >= 0; i--) {
    d.swap(first, first + i);
    siftDown(d, 0, i, first);
  }
}

const enum Hint {
  unknown,
  increasing,
  decreasing,
}

function pdqsort(d: LessSwap, a: number, b: number, limit: number): void {
  const maxInsertion = 12;
  let wasBalanced = true;
  let wasPartitioned = true;
  for (;;) {
    const length = b - a;
    if (length <= maxInsertion) {
      insertionSort(d, a, b);
      return;
    }
    if (limit === 0) {
      heapSort(d, a, b);
      return;
    }
    if (!wasBalanced) {
      breakPatterns(d, a, b);
      limit--;
    }
    let [pivot, hint] = choosePivot(d, a, b);
    if (hint === Hint.decreasing) {
      reverseRange(d, a, b);
      pivot = b - 1 - (pivot - a);
      hint = Hint.increasing;
    }
    if (wasBalanced && wasPartitioned && hint === Hint.increasing) {
      if (partialInsertionSort(d, a, b)) return;
    }
    if (a > 0 && !d.less(a - 1, pivot)) {
      a = partitionEqual(d, a, b, pivot);
      continue;
    }
    const [mid, alreadyPartitioned] = partition(d, a, b, pivot);
    wasPartitioned = alreadyPartitioned;
    const leftLen = mid - a;
    const rightLen = b - mid;
    const balanceThreshold = Math.trunc(length / 8);
    if (leftLen < rightLen) {
      wasBalanced = leftLen >= balanceThreshold;
      pdqsort(d, a, mid, limit);
      a = mid + 1;
    } else {
      wasBalanced = rightLen >= balanceThreshold;
      pdqsort(d, mid + 1, b, limit);
      b = mid;
    }
  }
}

function partition(d: LessSwap, a: number, b: number, pivot: number): [number, boolean] {
  d.swap(a, pivot);
  let i = a + 1;
  let j = b - 1;
  while (i <= j && d.less(i, a)) i++;
  while (i <= j && !d.less(j, a)) j--;
  if (i > j) {
    d.swap(j, a);
    return [j, true];
  }
  d.swap(i, j);
  i++;
  j--;
  for (;;) {
    while (i <= j && d.less(i, a)) i++;
    while (i <= j && !d.less(j, a)) j--;
    if (i > j) break;
    d.swap(i, j);
    i++;
    j--;
  }
  d.swap(j, a);
  return [j, false];
}

function partitionEqual(d: LessSwap, a: number, b: number, pivot: number): number {
  d.swap(a, pivot);
  let i = a + 1;
  let j = b - 1;
  for (;;) {
    while (i <= j && !d.less(a, i)) i++;
    while (i <= j && d.less(a, j)) j--;
    if (i > j) break;
    d.swap(i, j);
    i++;
    j--;
  }
  return i;
}

function partialInsertionSort(d: LessSwap, a: number, b: number): boolean {
  const maxSteps = 5;
  const shortestShifting = 50;
  let i = a + 1;
  for (let step = 0; step < maxSteps; step++) {
    while (i < b && !d.less(i, i - 1)) i++;
    if (i === b) return true;
    if (b - a < shortestShifting) return false;
    d.swap(i, i - 1);
    if (i - a >= 2) {
      for (let j = i - 1; j >= 1; j--) {
        if (!d.less(j, j - 1)) break;
        d.swap(j, j - 1);
      }
    }
    if (b - i >= 2) {
      for (let j = i + 1; j < b; j++) {
        if (!d.less(j, j - 1)) break;
        d.swap(j, j - 1);
      }
    }
  }
  return false;
}

const U64 = (1n << 64n) - 1n;

function breakPatterns(d: LessSwap, a: number, b: number): void {
  const length = b - a;
  if (length < 8) return;
  let random = BigInt(length);
  const modulus = 2 ** bitsLen(length); // nextPowerOfTwo
  const next = (): bigint => {
    random ^= (random << 13n) & U64;
    random ^= random >> 7n;
    random ^= (random << 17n) & U64;
    return random;
  };
  const start = a + Math.trunc(length / 4) * 2 - 1;
  for (let idx = start; idx <= start + 2; idx++) {
    let other = Number(next() & BigInt(modulus - 1));
    if (other >= length) other -= length;
    d.swap(idx, a + other);
  }
}

function choosePivot(d: LessSwap, a: number, b: number): [number, Hint] {
  const shortestNinther = 50;
  const maxSwaps = 4 * 3;
  const l = b - a;
  const swaps = { n: 0 };
  let i = a + Math.trunc(l / 4) * 1;
  let j = a + Math.trunc(l / 4) * 2;
  let k = a + Math.trunc(l / 4) * 3;
  if (l >= 8) {
    if (l >= shortestNinther) {
      i = median(d, i - 1, i, i + 1, swaps);
      j = median(d, j - 1, j, j + 1, swaps);
      k = median(d, k - 1, k, k + 1, swaps);
    }
    j = median(d, i, j, k, swaps);
  }
  if (swaps.n === 0) return [j, Hint.increasing];
  if (swaps.n === maxSwaps) return [j, Hint.decreasing];
  return [j, Hint.unknown];
}

function order2(d: LessSwap, a: number, b: number, swaps: { n: number }): [number, number] {
  if (d.less(b, a)) {
    swaps.n++;
    return [b, a];
  }
  return [a, b];
}

function median(d: LessSwap, a: number, b: number, c: number, swaps: { n: number }): number {
  [a, b] = order2(d, a, b, swaps);
  [b, c] = order2(d, b, c, swaps);
  [a, b] = order2(d, a, b, swaps);
  void a;
  void c;
  return b;
}

function reverseRange(d: LessSwap, a: number, b: number): void {
  let i = a;
  let j = b - 1;
  while (i < j) {
    d.swap(i, j);
    i++;
    j--;
  }
}

/** Number of code points, which is what tabwriter counts (utf8.RuneCount). */
function runeCount(s: string): number {
  let n = 0;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c >= 0xd800 && c <= 0xdbff && i + 1 < s.length) {
      const d = s.charCodeAt(i + 1);
      if (d >= 0xdc00 && d <= 0xdfff) i++;
    }
    n++;
  }
  return n;
}

interface Cell {
  text: string;
  width: number;
}

/**
 * Formats `text` as Go's text/tabwriter does with istioctl's settings
 * (`tabwriter.NewWriter(out, 0, 8, 1, ' ', 0)`): cells end at '\t', a column
 * block is a run of consecutive lines that have a cell in that column, its
 * width is the widest cell + 1, and the last cell of a line is not aligned.
 * A line with no tab ends every column block (tabwriter flushes there).
 */
export function tabwriterFormat(text: string): string {
  const minwidth = 0;
  const padding = 1;
  let out = '';
  let lines: Cell[][] = [];

  const formatBlock = (widths: number[], line0: number, line1: number): void => {
    const column = widths.length;
    for (let th = line0; th < line1; th++) {
      let line = lines[th]!;
      if (column >= line.length - 1) continue;
      writeLines(widths, line0, th);
      line0 = th;
      let width = minwidth;
      for (; th < line1; th++) {
        line = lines[th]!;
        if (column >= line.length - 1) break;
        const w = line[column]!.width + padding;
        if (w > width) width = w;
      }
      formatBlock([...widths, width], line0, th);
      line0 = th;
    }
    writeLines(widths, line0, line1);
  };

  const writeLines = (widths: number[], line0: number, line1: number): void => {
    for (let i = line0; i < line1; i++) {
      const line = lines[i]!;
      line.forEach((c, j) => {
        out += c.text;
        if (j < widths.length) out += ' '.repeat(Math.max(0, widths[j]! - c.width));
      });
      if (i + 1 === lines.length) {
        // the last buffered line has no newline (it is the partial line after the final '\n')
      } else {
        out += '\n';
      }
    }
  };

  const flush = (): void => {
    formatBlock([], 0, lines.length);
    lines = [];
  };

  const rawLines = text.split('\n');
  for (let li = 0; li < rawLines.length; li++) {
    const last = li === rawLines.length - 1;
    const t = rawLines[li]!;
    // The text after the final '\n' is a line with no cells when empty.
    const cells: Cell[] = last && t === '' ? [] : t.split('\t').map((c) => ({ text: c, width: runeCount(c) }));
    lines.push(cells);
    if (!last && cells.length === 1) {
      // tabwriter flushes after a terminated one-cell line: it cannot affect the lines after it.
      lines.push([]);
      flush();
    }
  }
  flush();
  return out;
}
