// Loads the compiled addon once and hands it the NativeError class. Only src/native
// imports the .node file (style.md); everything else uses the typed wrappers here.
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { NativeError } from './errors.js';
import { addonPath } from './paths.js';
import type { RawAddon } from './raw.js';

let addon: RawAddon | undefined;

export function native(): RawAddon {
  if (addon) return addon;
  const path = addonPath();
  if (!existsSync(path)) {
    throw new Error(`xdpswitch: native addon not built (${path}); run "npm run build" as root`);
  }
  const require = createRequire(import.meta.url);
  const loaded = require(path) as RawAddon;
  loaded.init({ NativeError });
  addon = loaded;
  return loaded;
}
