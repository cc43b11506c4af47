/**
 * Polls `ok()` on every turn of the event loop until it holds or `ms` of real time have passed, and says which. For
 * what a test waits on that answers asynchronously (a worker thread, a retry timer): bounded, so a broken one fails
 * the test instead of hanging it, and no fixed sleep that a loaded machine can outlast.
 */
export async function pollUntil(ok: () => boolean, ms: number): Promise<boolean> {
  const end = Date.now() + ms;
  while (!ok()) {
    if (Date.now() > end) return false;
    await new Promise((resolve) => setImmediate(resolve));
  }
  return true;
}
