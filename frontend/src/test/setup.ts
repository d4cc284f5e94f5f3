import '@testing-library/jest-dom/vitest';
import { cleanup, configure } from '@testing-library/react';
import { afterEach } from 'vitest';

// `waitFor` and `findBy*` give up after 1 s by default: too short on a loaded two-core CI
// machine rendering a page of 30 cards. Waiting longer asserts the same thing.
configure({ asyncUtilTimeout: 5000 });

afterEach(() => {
  cleanup();
});
