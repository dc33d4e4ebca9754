// vitest setup file: whatever a test created through the harness is removed after it.
import { afterEach } from 'vitest';
import { destroyAll } from './cleanup.js';

afterEach(async () => {
  await destroyAll();
});
