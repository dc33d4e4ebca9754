// Every topology registers itself here when created; an afterEach hook (setup.ts) and
// process exit/signal handlers remove whatever a test left, pass or fail.
interface Destroyable {
  destroy(): Promise<void>;
  destroySync(): void;
}

const live = new Set<Destroyable>();
let hooked = false;

export function register(d: Destroyable): void {
  live.add(d);
  if (hooked) return;
  hooked = true;
  process.once('exit', () => {
    for (const x of live) x.destroySync();
  });
  for (const sig of ['SIGINT', 'SIGTERM'] as const) {
    process.once(sig, () => {
      for (const x of live) x.destroySync();
      process.exit(128 + (sig === 'SIGINT' ? 2 : 15));
    });
  }
}

export function unregister(d: Destroyable): void {
  live.delete(d);
}

/** Destroys everything still registered (called after each test). */
export async function destroyAll(): Promise<void> {
  const all = [...live];
  await Promise.all(all.map((d) => d.destroy()));
}
