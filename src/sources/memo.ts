/**
 * Each piece of evidence is fetched at most once per run (design principle 4):
 * the first caller starts the fetch, later callers share its promise.
 */
export class Memo {
  private readonly pending = new Map<string, Promise<unknown>>();

  once<T>(key: string, load: () => Promise<T>): Promise<T> {
    let promise = this.pending.get(key) as Promise<T> | undefined;
    if (!promise) {
      promise = load();
      this.pending.set(key, promise);
    }
    return promise;
  }

  has(key: string): boolean {
    return this.pending.has(key);
  }

  forget(key: string): void {
    this.pending.delete(key);
  }
}
