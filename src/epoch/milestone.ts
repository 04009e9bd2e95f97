/** A one-shot signal with a value: resolved at most once, awaited any number of times. */
export class Milestone<T> {
  readonly promise: Promise<T>;
  #resolve!: (value: T) => void;
  #done = false;

  constructor() {
    this.promise = new Promise((resolve) => (this.#resolve = resolve));
  }

  get done(): boolean {
    return this.#done;
  }

  resolve(value: T): void {
    if (this.#done) return;
    this.#done = true;
    this.#resolve(value);
  }
}
