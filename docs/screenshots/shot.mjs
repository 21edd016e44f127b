import { chromium } from 'playwright-core';
const url = process.argv[2], out = process.argv[3];
const browser = await chromium.launch({ executablePath: '/usr/bin/chromium',
  args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
         '--disable-background-networking', '--disable-component-update', '--disable-sync'] });
const page = await browser.newPage({ viewport: { width: 1300, height: 1700 } });
await page.goto(url);
await page.waitForSelector('.jp-Notebook', { timeout: 60000 });
await page.waitForTimeout(4000);
// run all cells: menu Run > Run All Cells via command palette shortcut
await page.keyboard.press('Escape');
await page.evaluate(() => window.jupyterapp && window.jupyterapp.commands.execute('notebook:run-all-cells'));
await page.waitForTimeout(20000);
await page.screenshot({ path: out + '-1.png', fullPage: false });
// move the sparsity slider: set via keyboard on the first slider handle
const handle = page.locator('.widget-slider .noUi-handle').first();
await handle.click();
for (let i = 0; i < 30; i++) await page.keyboard.press('ArrowRight');
await page.waitForTimeout(4000);
await page.screenshot({ path: out + '-2.png', fullPage: false });
await browser.close();
