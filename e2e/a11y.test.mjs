// Accessibility: axe-core (pinned npm package) on the main pages of the demo-tenant build, and
// keyboard-only use of a wizard. Fails on any serious or critical violation.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import { demoTenant } from './lib/demo.mjs';
import { ROOT, screenshot } from './lib/browser.mjs';

const AXE = path.join(ROOT, 'node_modules/axe-core/axe.min.js');
const VMSS = 'subscriptions/11111111-1111-4111-8111-111111111111/resourceGroups/rg-web/providers/Microsoft.Compute/virtualMachineScaleSets/vmss-web';
const demo = demoTenant();

async function axe(page) {
  await page.addScriptTag({ path: AXE });
  const r = await page.evaluate(async () => window.axe.run(document, { resultTypes: ['violations'] }));
  return r.violations
    .filter((v) => v.impact === 'serious' || v.impact === 'critical')
    .map((v) => `${v.impact} ${v.id}: ${v.nodes.map((n) => n.target.join(' ')).slice(0, 3).join(', ')}`);
}

for (const [name, url, ready] of [
  ['home', '', '#scenarios'],
  ['subscriptions', 'subscriptions', '#subscriptions'],
  ['resource', VMSS, '#wizards'],
  ['wizard-choose', `${VMSS}?wizard=assign-user-assigned`, '#choices .choice'],
  ['wizard-review', `${VMSS}?wizard=remove-system-assigned`, '#scripts'],
  ['snippets', 'snippets/enable-system-assigned', '#sn-sub'],
]) {
  test(`axe: no serious or critical violation on ${name}`, async () => {
    // axe is injected as a script: this context alone bypasses the page's CSP to allow it
    const context = await demo.browser.newContext({ bypassCSP: true, viewport: { width: 1100, height: 800 } });
    const page = await context.newPage();
    await page.goto(demo.server.url + url);
    await page.locator(ready).first().waitFor({ timeout: 20_000 });
    assert.deepEqual(await axe(page), []);
    await context.close();
  });
}

test('keyboard only: reach a wizard, pick an identity and get to the review', async () => {
  const context = await demo.browser.newContext({ viewport: { width: 1100, height: 800 } });
  const page = await context.newPage();
  await page.goto(demo.server.url + VMSS);
  await page.locator('#wizards').waitFor();
  const focusTo = async (predicate, limit = 80) => {
    for (let i = 0; i < limit; i++) {
      await page.keyboard.press('Tab');
      if (await page.evaluate(predicate)) return;
    }
    throw new Error('focus never reached the target');
  };
  // the skip link comes first and is visible when focused
  await page.keyboard.press('Tab');
  assert.equal(await page.evaluate(() => document.activeElement.className), 'skip');
  await focusTo(() => document.activeElement.closest('li[data-wizard="assign-user-assigned"]') !== null);
  await page.keyboard.press('Enter');
  await page.locator('#choices .choice').first().waitFor();
  await focusTo(() => document.activeElement.matches('#choices input[type=checkbox]'));
  await page.keyboard.press('Space');
  await focusTo(() => document.activeElement.id === 'to-review');
  await page.keyboard.press('Enter');
  await page.locator('#diff').waitFor();
  // the script tabs come with the scripts module, fetched when the review first shows scripts
  await page.locator('#tab-az-powershell').waitFor({ timeout: 20_000 });
  const outline = await page.evaluate(() => {
    document.querySelector('#tab-az-powershell').focus();
    return getComputedStyle(document.activeElement).outlineStyle;
  });
  assert.notEqual(outline, 'none', 'focus is visible');
  await screenshot(page, 'keyboard-review');
  await context.close();
});
