/**
 * What `promise` rejected with, checked to be a `type` and typed as one; fails the test when the
 * promise resolves or rejects with anything else.
 */
export async function rejection<E extends Error>(promise: Promise<unknown>, type: abstract new (...args: never[]) => E): Promise<E> {
  try {
    await promise;
  } catch (err) {
    if (err instanceof type) return err;
    throw new Error(`expected a ${type.name}, got ${err instanceof Error ? `${err.name}: ${err.message}` : typeof err}`, { cause: err });
  }
  throw new Error(`expected a ${type.name}, the promise resolved`);
}
