// The demo-tenant build (dist-demo/, or DEMO_DIST_DIR) served on loopback and one browser, for a test
// file: `const demo = demoTenant();` registers the file's before/after hooks; `demo.server.url` and
// `demo.browser` are set once they have run; `demo.open(t)` gives a guarded page whose console
// errors, failed requests and off-loopback requests fail the test when it ends.
import { before, after } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import { startStaticServer } from '../../scripts/static-server.mjs';
import { ROOT, launch, guardedPage } from './browser.mjs';

export const DEMO_DIST = path.resolve(process.env.DEMO_DIST_DIR ?? path.join(ROOT, 'dist-demo'));

export function demoTenant({ viewport = { width: 1200, height: 900 } } = {}) {
  const demo = {
    server: null,
    browser: null,
    async open(t) {
      const ctx = await guardedPage(demo.browser, { viewport });
      t.after(async () => {
        await ctx.context.close();
        assert.deepEqual(ctx.problems, [], 'console errors or failed requests');
        assert.deepEqual(ctx.external, [], 'requests off loopback');
      });
      return ctx;
    },
  };
  before(async () => {
    demo.server = await startStaticServer({ dist: DEMO_DIST, config: { cloud: 'AzureCloud', demo: true } });
    demo.browser = await launch();
  });
  after(async () => {
    await demo.browser?.close();
    await demo.server?.close();
  });
  return demo;
}
