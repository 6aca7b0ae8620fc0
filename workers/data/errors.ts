// One error type for everything that can go wrong with data, so callers (CLI, UI, worker) can show the
// message as-is: one line saying what is wrong and what is allowed.

export class DatasetError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'DatasetError';
  }
}
