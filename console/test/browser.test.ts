import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { chromium, type Browser, type Page } from 'playwright-core';
import { cliPath, repoRoot, waitFor } from '../../services/kit/testing/processes';
import { consoleAssetsDir, screenshotDir, startPlatform, startWebhookReceiver, type Platform } from './platform';

/**
 * The console in headless Chromium against the real services (compiled CLI: run `npx tsc -p tsconfig.json` first).
 * Screenshots of every page go to test-output/console/.
 */
const CHROMIUM = '/usr/bin/chromium';
const hasChromium = fs.existsSync(CHROMIUM);
if (!hasChromium) console.warn(`console browser tests skipped: ${CHROMIUM} is missing (apt-get install -y chromium)`);
const describeInBrowser = hasChromium ? describe : describe.skip;
const CLIENT = 'console_e2e';
const MINUTE = 60_000;

describeInBrowser('console in a browser', () => {
  let platform: Platform;
  let browser: Browser;
  let page: Page;
  let receiver: Awaited<ReturnType<typeof startWebhookReceiver>>;
  const pageErrors: string[] = [];

  beforeAll(async () => {
    if (!fs.existsSync(cliPath)) throw new Error(`${cliPath} is missing: run npx tsc -p tsconfig.json first`);
    buildConsoleIfStale();
    fs.mkdirSync(screenshotDir, { recursive: true });
    [platform, browser, receiver] = await Promise.all([
      startPlatform(consoleAssetsDir),
      chromium.launch({
        executablePath: CHROMIUM,
        args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking'],
      }),
      startWebhookReceiver(),
    ]);
    const context = await browser.newContext({ viewport: { width: 1280, height: 860 }, colorScheme: 'light' });
    page = await context.newPage();
    page.on('pageerror', (error) => pageErrors.push(String(error)));
  }, 60_000);

  afterAll(async () => {
    await browser?.close();
    await receiver?.close();
    await platform?.close();
  });

  afterEach(() => expect(pageErrors).toEqual([]));

  test('the credential is asked once and sent as Authorization', async () => {
    await page.goto(`${platform.consoleUrl}/ui/`);
    await page.getByLabel('Client id or API key').fill(CLIENT);
    const request = page.waitForRequest((sent) => sent.url().endsWith('/ui/api/config') || sent.url().includes('/v1/'));
    await page.getByRole('button', { name: 'Save' }).click();
    await page.getByRole('link', { name: 'Status' }).click();
    expect((await request).headers().authorization).toBe(`Bearer ${CLIENT}`);
    await page.reload();
    await expect(page.getByLabel('Client id or API key').count()).resolves.toBe(0);
  });

  test('a query draws one line per group with every point, and the table and URL follow', async () => {
    const now = Date.now();
    const firstWindow = Math.floor(now / MINUTE) * MINUTE - 20 * MINUTE;
    const metrics = ['a', 'b', 'c'].flatMap((host, hostIndex) =>
      Array.from({ length: 20 }, (_, index) => ({
        name: 'cpu_usage',
        value: 10 * (hostIndex + 1) + index,
        tags: { host, dc: 'west' },
        timestamp: firstWindow + index * MINUTE + 1000,
      })),
    );
    await ingest(metrics);
    const query = 'SELECT mean(value) FROM cpu_usage GROUP BY time(1m), host fill(none)';
    await waitFor(async () => (await runQuery(query)).length === 60 || undefined, 20_000, 'the points to be queryable');

    await page.getByRole('link', { name: 'Explore' }).click();
    const editor = page.getByLabel('Query', { exact: true });
    await editor.click();
    await editor.pressSequentially('SELECT mean(value) FROM cpu');
    const suggestion = page.getByRole('option', { name: /cpu_usage/ });
    await suggestion.waitFor();
    await page.screenshot({ path: path.join(screenshotDir, 'explore-autocomplete.png') });
    await editor.press('Tab');
    await editor.pressSequentially(' WHERE ho');
    await page.getByRole('option', { name: /host/ }).waitFor();
    await editor.press('Tab');
    await editor.pressSequentially(" != 'z' GROUP BY time(1m), host fill(none)");
    await expect(editor.inputValue()).resolves.toBe(
      "SELECT mean(value) FROM cpu_usage WHERE host != 'z' GROUP BY time(1m), host fill(none)",
    );
    await editor.press('Enter');
    const chart = page.locator('.chart[data-series]');
    await chart.waitFor();
    await expect(chart.getAttribute('data-series')).resolves.toBe('3');
    await expect(chart.getAttribute('data-points')).resolves.toBe('60');
    await expect(page.locator('.u-legend .u-series').count()).resolves.toBe(4);
    await expect(page.locator('.u-legend').innerText()).resolves.toContain('host="b"');

    const box = (await page.locator('.u-over').boundingBox())!;
    await page.mouse.move(box.x + box.width * 0.5, box.y + box.height * 0.5);
    const tooltip = page.locator('.chart-tooltip');
    await tooltip.waitFor({ state: 'visible' });
    await expect(tooltip.innerText()).resolves.toMatch(/\d{4}-\d\d-\d\d \d\d:\d\d:\d\d.*host=/s);
    await page.screenshot({ path: path.join(screenshotDir, 'explore-chart.png') });

    const url = new URL(page.url());
    expect(url.pathname).toBe('/ui/explore');
    expect(url.searchParams.get('q')).toContain('GROUP BY time(1m), host');
    expect(url.searchParams.get('range')).toBe('1h');
    await page.getByRole('button', { name: 'Table' }).click();
    await expect(page.locator('table.data tbody tr').count()).resolves.toBe(60);
    expect(new URL(page.url()).searchParams.get('view')).toBe('table');

    await page.reload();
    await page.locator('table.data tbody tr').first().waitFor();
    await expect(page.locator('table.data tbody tr').count()).resolves.toBe(60);
    await page.screenshot({ path: path.join(screenshotDir, 'explore-table.png') });
    await page.getByRole('link', { name: 'Rules' }).click();
    await page.getByRole('link', { name: 'Explore' }).click();
    await expect(page.getByLabel('Query', { exact: true }).inputValue()).resolves.toContain('GROUP BY time(1m)');
    expect(new URL(page.url()).searchParams.get('view')).toBe('table');
  });

  test('a custom range goes into the URL and bounds the query', async () => {
    const query = 'SELECT mean(value) FROM cpu_usage GROUP BY time(1m), host fill(none)';
    await page.goto(`${platform.consoleUrl}/ui/explore?q=${encodeURIComponent(query)}`);
    await page.locator('.chart[data-points="60"]').waitFor();
    await page.getByLabel('Time range').selectOption('custom');
    const local = (ms: number) => new Date(ms - new Date(ms).getTimezoneOffset() * MINUTE).toISOString().slice(0, 19);
    const now = Date.now();
    // The last 5 minutes hold the newest points of each host (one per minute, at most 5).
    await page.getByLabel('From', { exact: true }).fill(local(now - 5 * MINUTE - 30_000));
    await page.getByLabel('To', { exact: true }).fill(local(now));
    await page.getByRole('button', { name: 'Run query' }).click();
    await waitFor(() => new URL(page.url()).searchParams.get('from') ?? undefined, 5000, 'the range in the URL');
    // The chart of the whole hour (60 points) stays until the narrower answer replaces it.
    const chart = page.locator('.chart[data-series="3"]');
    const points = await waitFor(
      async () => {
        const drawn = Number(await chart.getAttribute('data-points'));
        return drawn < 60 ? drawn : undefined;
      },
      5000,
      'the chart of the custom range',
    );
    expect(points).toBeGreaterThanOrEqual(3);
    expect(points).toBeLessThanOrEqual(18);
    expect(new URL(page.url()).searchParams.get('range')).toBeNull();
  });

  test('a parse error is marked at its position in the editor', async () => {
    await page.goto(`${platform.consoleUrl}/ui/explore?range=15m`);
    const editor = page.getByLabel('Query', { exact: true });
    const text = 'SELECT mean(value FROM cpu_usage GROUP BY host';
    await editor.fill(text);
    await editor.press('Enter');
    const mark = page.locator('.editor-backdrop mark.error-mark');
    await mark.waitFor();
    const backdropText = await page.locator('.editor-backdrop').innerText();
    const markedAt = backdropText.indexOf(await mark.innerText(), text.indexOf('(') + 1);
    expect(markedAt).toBe(text.indexOf('FROM'));
    await expect(page.locator('.editor-error').innerText()).resolves.toContain('line 1, column 19');
    await expect(editor.getAttribute('aria-invalid')).resolves.toBe('true');
    await page.screenshot({ path: path.join(screenshotDir, 'explore-parse-error.png') });
  });

  test('a triggered alert appears as firing with its notification', async () => {
    await api(platform.alertingUrl, 'POST', '/channels', {
      name: 'hook',
      type: 'webhook',
      settings: { url: receiver.url, headers: { Authorization: 'Bearer receiver-secret' } },
    });
    await api(platform.alertingUrl, 'POST', '/rules', {
      name: 'hot_room',
      query: 'avg(temperature) by (room) > 50',
      duration: '0s',
      window: '5m',
      interval: '500ms',
      channels: ['hook'],
      labels: { team: 'facilities' },
    });
    await ingest([{ name: 'temperature', value: 80, tags: { room: 'kitchen' } }]);
    await page.goto(`${platform.consoleUrl}/ui/alerts`);
    const firing = page.locator('tr[data-rule="hot_room"][data-state="firing"]');
    await waitFor(
      async () => {
        if ((await firing.count()) > 0 && receiver.received.length > 0) return true;
        await page.getByRole('button', { name: '↻ Refresh' }).click();
        return undefined;
      },
      20_000,
      'the alert to fire',
    );
    await page.getByRole('button', { name: '↻ Refresh' }).click();
    await expect(firing.innerText()).resolves.toMatch(/firing[\s\S]*hot_room[\s\S]*80[\s\S]*room=kitchen/);
    await page.getByLabel('State').selectOption('resolved');
    await page.locator('.empty').waitFor();
    await page.getByLabel('State').selectOption('firing');
    await firing.waitFor();
    expect(new URL(page.url()).searchParams.get('state')).toBe('firing');
    await page.locator('tr[data-rule="hot_room"] .delivery-delivered').waitFor({ timeout: 10_000 });
    await page.screenshot({ path: path.join(screenshotDir, 'alerts.png') });
  });

  test('a rule with a bad query shows the error inline; a good one is created, edited and deleted', async () => {
    await page.goto(`${platform.consoleUrl}/ui/rules`);
    const channelRow = page.getByRole('table', { name: 'Notification channels' }).getByRole('row', { name: /hook/ });
    await channelRow.waitFor();
    await expect(channelRow.innerText()).resolves.toMatch(/hook\s+webhook\s+api[\s\S]*Authorization.*\*{8}/);
    await expect(channelRow.innerText()).resolves.not.toContain('receiver-secret');
    await page.getByRole('button', { name: 'New rule' }).click();
    await page.getByLabel('Name', { exact: true }).fill('bad_rule');
    await page.getByLabel('Condition').fill('avg(cpu_usage > 80');
    await page.getByLabel('For', { exact: true }).fill('1m');
    await page.getByRole('button', { name: 'Create rule' }).click();
    const queryError = page.locator('[data-field="query"] .field-error');
    await queryError.locator('pre.caret').waitFor();
    await expect(queryError.innerText()).resolves.toContain('parse_error');
    await expect(page.getByLabel('Condition').getAttribute('aria-invalid')).resolves.toBe('true');
    await page.screenshot({ path: path.join(screenshotDir, 'rules-error.png') });

    await page.getByLabel('Condition').fill('max(cpu_usage) by (host) > 1000');
    await page.getByLabel('Labels (name=value per line)').fill('team=web');
    await page.getByRole('button', { name: 'Create rule' }).click();
    const row = page.locator('tr[data-rule="bad_rule"]');
    await row.waitFor();
    await expect(row.innerText()).resolves.toContain('team=web');

    await page.getByRole('button', { name: 'Edit bad_rule' }).click();
    await page.getByLabel('For', { exact: true }).fill('nonsense');
    await page.getByRole('button', { name: 'Save rule' }).click();
    await page.locator('[data-field="duration"] .field-error', { hasText: 'duration' }).waitFor();
    await page.getByLabel('For', { exact: true }).fill('2m');
    await page.getByRole('button', { name: 'Save rule' }).click();
    await page.locator('tr[data-rule="bad_rule"] td:nth-child(3)', { hasText: '2m' }).waitFor();
    await page.screenshot({ path: path.join(screenshotDir, 'rules.png') });

    page.once('dialog', (dialog) => void dialog.accept());
    await page.getByRole('button', { name: 'Delete bad_rule' }).click();
    await row.waitFor({ state: 'detached' });
  });

  test('the status page shows every service, the queue partitions, the storage shards and the ingest rate', async () => {
    await page.goto(`${platform.consoleUrl}/ui/status`);
    for (const service of ['query', 'alerting', 'queue', 'ingestion', 'storage 0'])
      await page.locator(`.card[data-service="${service}"][data-health="up"]`).waitFor();
    await page.getByRole('table', { name: 'Storage shards' }).waitFor();
    await page.locator('[data-figure="ingest-total"]').waitFor();
    const partitions = page.getByRole('table', { name: 'Queue partitions' }).locator('tbody tr');
    await expect(partitions.filter({ hasText: 'metrics.inbound' }).count()).resolves.toBe(12);
    await expect(partitions.first().innerText()).resolves.toContain('q0');
    await expect(page.getByRole('table', { name: 'Storage shards' }).locator('tbody tr').count()).resolves.toBe(1);
    await expect(page.locator('[data-figure="ingest-total"]').innerText()).resolves.toBe('61');
    await page.screenshot({ path: path.join(screenshotDir, 'status.png'), fullPage: true });
    await page.getByRole('button', { name: /^Theme/ }).click();
    await page.getByRole('button', { name: /^Theme/ }).click();
    await expect(page.evaluate(() => document.documentElement.dataset.theme)).resolves.toBe('dark');
    await page.goto(
      `${platform.consoleUrl}/ui/explore?q=${encodeURIComponent('SELECT mean(value) FROM cpu_usage GROUP BY time(1m), host fill(none)')}`,
    );
    await page.locator('.chart[data-series="3"]').waitFor();
    await page.screenshot({ path: path.join(screenshotDir, 'explore-dark.png') });
  });

  async function ingest(metrics: object[]) {
    const answer = await fetch(`${platform.ingestionUrl}/metrics`, {
      method: 'POST',
      headers: { Authorization: CLIENT, 'Content-Type': 'application/json' },
      body: JSON.stringify({ metrics }),
    });
    expect(answer.status).toBe(202);
  }

  async function runQuery(query: string): Promise<object[]> {
    const answer = await fetch(`${platform.queryUrl}/query`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify({ query }),
    });
    return ((await answer.json()) as { series?: object[] }).series ?? [];
  }
});

async function api(baseUrl: string, method: string, pathname: string, body: unknown) {
  const answer = await fetch(baseUrl + pathname, {
    method,
    headers: { 'Content-Type': 'application/json' },
    body: JSON.stringify(body),
  });
  if (!answer.ok) throw new Error(`${method} ${pathname}: ${answer.status} ${await answer.text()}`);
}

/** Builds the console with Vite when its sources are newer than the build (or it was never built). */
function buildConsoleIfStale() {
  const builtAt = fs.existsSync(path.join(consoleAssetsDir, 'index.html'))
    ? fs.statSync(path.join(consoleAssetsDir, 'index.html')).mtimeMs
    : 0;
  const sources = [path.join(repoRoot, 'console/index.html'), ...listFiles(path.join(repoRoot, 'console/src'))];
  if (sources.every((file) => fs.statSync(file).mtimeMs < builtAt)) return;
  const result = spawnSync(
    process.execPath,
    [
      path.join(repoRoot, 'node_modules/vite/bin/vite.js'),
      'build',
      '--config',
      'console/vite.config.ts',
      '--logLevel',
      'warn',
    ],
    { cwd: repoRoot, encoding: 'utf8' },
  );
  if (result.status !== 0) throw new Error(`vite build failed:\n${result.stdout}${result.stderr}`);
}

function listFiles(directory: string): string[] {
  return fs
    .readdirSync(directory, { withFileTypes: true })
    .flatMap((entry) =>
      entry.isDirectory() ? listFiles(path.join(directory, entry.name)) : [path.join(directory, entry.name)],
    );
}
