#!/usr/bin/env node
// test_explorer.mjs - the web explorer in a real headless browser (Debian's
// chromium driven by playwright-core): starts a `pel node` on a temporary
// directory and a free port, seeds a scenario through the `pel` CLI
// (transfers, two research objects with a derived-from link, a
// preregistration whose results switch outcomes, a review), then checks
// the dashboard, block, object, provenance-graph, preregistration, review,
// search and verify-a-file pages. Builds nothing: it uses build/pel (or
// $PEL_BIN). Screenshots go to build/browser-artifacts/. Ends with
// "test_explorer: N passed, M failed" and a non-zero status on failure.
// A missing chromium or playwright-core is a failure, not a skip:
// scripts/install-deps.sh installs both.

import { execFile, spawn } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

const run = promisify(execFile);
const here = path.dirname(fileURLToPath(import.meta.url));
const root = path.resolve(here, '../..');
const bin = path.resolve(root, process.env.PEL_BIN || 'build/pel');
const chromiumPath = process.env.PEL_CHROMIUM || '/usr/bin/chromium';
const artifacts = path.join(root, 'build/browser-artifacts');

let passed = 0, failed = 0;
function check(name, ok, detail) {
  if (ok) { passed++; return; }
  failed++;
  console.error(`FAIL ${name}${detail !== undefined ? `: ${detail}` : ''}`);
}
function finish(code) {
  console.log(`test_explorer: ${passed} passed, ${failed} failed`);
  process.exit(code ?? (failed ? 1 : 0));
}

const sleep = (ms) => new Promise(r => setTimeout(r, ms));

function freePort() {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.on('error', reject);
    s.listen(0, '127.0.0.1', () => { const p = s.address().port; s.close(() => resolve(p)); });
  });
}

// ---- the node and the scenario ----

let node = null, tmp = null, rpcUrl = '', base = '';

async function pel(...args) {
  const { stdout } = await run(bin, args, { cwd: tmp, timeout: 30000, env: { ...process.env, PEL_RPC: rpcUrl } });
  return stdout;
}
const pelJson = async (...args) => JSON.parse(await pel(...args, '--json'));
const eventId = (r, kind) => r.receipt.events.find(e => e.kind === kind).id;

async function rpc(method, params) {
  const res = await fetch(rpcUrl, { method: 'POST', headers: { 'Content-Type': 'application/json' },
    body: JSON.stringify({ jsonrpc: '2.0', id: 1, method, params: params || {} }) });
  const j = await res.json();
  if (j.error) throw new Error(`${method}: ${j.error.message}`);
  return j.result;
}

async function startNode() {
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'pel-browser-'));
  const port = await freePort();
  rpcUrl = `http://127.0.0.1:${port}/rpc`;
  base = `http://127.0.0.1:${port}/`;
  await run(bin, ['init', '--dir', path.join(tmp, 'node'), '--port', String(port)], { cwd: tmp });
  // no --web: the node finds the explorer through $PEL_WEB_DIR
  node = spawn(bin, ['node', '--dir', path.join(tmp, 'node'), '--listen', `127.0.0.1:${port}`,
                     '--block-interval-ms', '100', '--quiet'],
               { cwd: tmp, env: { ...process.env, PEL_WEB_DIR: path.join(root, 'web') }, stdio: ['ignore', 'inherit', 'inherit'] });
  for (let i = 0; i < 100; i++) {
    try { if ((await fetch(`${base}health`)).ok) return; } catch { /* not up yet */ }
    await sleep(50);
  }
  throw new Error('the node did not start');
}

async function account(name) {
  const key = path.join(tmp, `${name}.key`);
  const { address } = await pelJson('keygen', '--out', key);
  await pel('faucet', address, '--wait');
  return { key, address };
}

async function seed() {
  const s = {};
  s.alice = await account('alice');
  s.bob = await account('bob');
  s.carol = await account('carol');
  s.file1 = path.join(tmp, 'field-data.csv');
  s.file2 = path.join(tmp, 'analysis.py');
  s.unregistered = path.join(tmp, 'never-registered.txt');
  fs.writeFileSync(s.file1, 'site,count\nA,12\nB,7\n');
  fs.writeFileSync(s.file2, "print('analysis of the field data')\n");
  fs.writeFileSync(s.unregistered, `nobody registered this ${Date.now()}\n`);
  const r1 = await pelJson('object', 'register', s.file1, '--kind', 'dataset', '--title', 'Field data 2026',
    '--license', 'CC-BY-4.0', '--uri', 'doi:10.5555/field.2026',
    '--contributor', `${s.alice.address}:data-curation,investigation`, '--key', s.alice.key, '--wait');
  s.obj1 = eventId(r1, 'object');
  s.obj1Height = r1.height;
  s.obj1Tx = r1.id;
  const r2 = await pelJson('object', 'register', s.file2, '--kind', 'analysis', '--title', 'Analysis <script>alert(1)</script>',
    '--license', 'MIT', '--link', `derived-from:${s.obj1}`, '--key', s.bob.key, '--wait');
  s.obj2 = eventId(r2, 'object');
  const proto = path.join(tmp, 'protocol.md'), save = path.join(tmp, 'reveal.json');
  fs.writeFileSync(proto, '# Protocol\nPrimary: HbA1c at 12 weeks; adverse events.\n');
  const c = await pelJson('prereg', 'commit', '--protocol', proto, '--outcome', 'HbA1c at 12 weeks',
    '--outcome', 'adverse events', '--embargo-height', '100000', '--save', save, '--key', s.alice.key, '--wait');
  s.prereg = eventId(c, 'prereg');
  await pel('prereg', 'reveal', save, '--key', s.alice.key, '--wait');
  await pel('prereg', 'results', s.prereg, '--object', s.obj1, '--outcome', 'HbA1c at 12 weeks',
    '--outcome', 'weight', '--key', s.alice.key, '--wait');
  const text = path.join(tmp, 'review.md');
  fs.writeFileSync(text, 'Sound data; please document the sampling.\n');
  const rv = await pelJson('review', 'submit', `${s.obj1}@v1`, '--recommendation', 'minor', '--text', text,
    '--competing-interests', 'none', '--key', s.carol.key, '--wait');
  s.review = eventId(rv, 'object');
  return s;
}

// ---- the browser ----

async function shot(page, name) {
  await page.screenshot({ path: path.join(artifacts, `${name}.png`), fullPage: true });
}

async function goto(page, hash) {
  await page.goto(`${base}#${hash}`);
  await page.waitForLoadState('domcontentloaded');
}

const text = (page, sel) => page.locator(sel).first().innerText({ timeout: 5000 }).catch(() => '');

async function dashboardChecks(page, s) {
  await page.goto(base);
  await page.locator('#height').waitFor({ timeout: 5000 });
  const h1 = Number(await text(page, '#height'));
  const info = await rpc('node_info');
  check('dashboard shows the height', h1 === info.height, `${h1} vs ${info.height}`);
  check('dashboard lists the latest blocks', (await page.locator('#latest-blocks tbody tr').count()) >= 5);
  await pel('faucet', s.bob.address);                   // an idle devnet does not grow: make a block
  let h2 = h1;
  for (let i = 0; i < 50 && h2 <= h1; i++) { await sleep(100); h2 = Number(await text(page, '#height')); }
  check('dashboard height advances by polling', h2 > h1, `${h1} -> ${h2}`);
  check('DAO placeholder in the navigation', (await text(page, '#nav-dao')).includes('DAO'));
  await shot(page, 'dashboard');
}

async function blockChecks(page, s) {
  await goto(page, `/block/${s.obj1Height}`);
  await page.locator('#block-txs tbody tr').first().waitFor({ timeout: 5000 });
  const t = await text(page, '#block-txs');
  check('block page lists its transaction', t.includes(s.obj1Tx.slice(0, 10)), t);
  check('block page shows the receipt and event', t.includes('success') && t.includes(s.obj1));
  await shot(page, 'block');
}

async function objectChecks(page, s) {
  await goto(page, `/object/${s.obj1}`);
  await page.locator('#object-title').waitFor({ timeout: 5000 });
  check('object page shows the title', (await text(page, '#object-title')) === 'Field data 2026');
  check('object page shows the versions', (await text(page, '#object-versions')).includes('v1'));
  const contrib = await text(page, '#object-contributors');
  check('object page shows contributors with CRediT roles',
    contrib.includes(s.alice.address) && contrib.includes('data-curation') && contrib.includes('investigation'), contrib);
  const body = await text(page, '#view');
  check('object page shows licence and digest', body.includes('CC-BY-4.0') && body.includes('1220'));
  check('object page shows what builds on it', body.includes(s.obj2) && body.includes('derived-from'));
  await shot(page, 'object');
  // a hostile title stays text
  await goto(page, `/object/${s.obj2}`);
  await page.locator('#object-title').waitFor({ timeout: 5000 });
  check('an object title is shown as text, not markup',
    (await text(page, '#object-title')) === 'Analysis <script>alert(1)</script>'
    && (await page.locator('#view script').count()) === 0);
}

async function graphChecks(page, s) {
  await goto(page, `/graph/${s.obj2}`);
  const nodes = page.locator('#graph-svg g.node');
  await page.locator(`#graph-svg g.node[data-id="${s.obj1}"]`).waitFor({ timeout: 5000 });
  const before = await nodes.count();
  check('graph starts with the object and its parent', before === 2, before);
  await page.locator(`#graph-svg g.node[data-id="${s.obj1}"]`).click();
  await page.locator(`#graph-svg g.node[data-id="${s.review}"]`).waitFor({ timeout: 5000 }).catch(() => {});
  const after = await nodes.count();
  check('clicking a node expands it (the review of the parent appears)', after > before, `${before} -> ${after}`);
  check('graph draws labelled edges', (await page.locator('#graph-svg g.edge[data-relation="reviews"]').count()) === 1
    && (await page.locator('#graph-svg g.edge[data-relation="derived-from"]').count()) === 1);
  await shot(page, 'graph');
}

async function preregChecks(page, s) {
  await goto(page, `/prereg/${s.prereg}`);
  await page.locator('#outcome-switched').waitFor({ timeout: 5000 }).catch(() => {});
  check('prereg page flags OUTCOME-SWITCHED prominently', (await text(page, '#outcome-switched')).includes('OUTCOME-SWITCHED'));
  const body = await text(page, '#view');
  check('prereg page lists added and dropped outcomes', body.includes('added: weight') && body.includes('dropped: adverse events'), body);
  check('prereg page shows the embargo state', (await text(page, '#embargo')).includes('under embargo'));
  await shot(page, 'prereg');
  await goto(page, `/review/${s.review}`);
  check('review page shows the recommendation', (await text(page, '#recommendation')) === 'minor');
}

async function verifyChecks(page, s, browserCtx) {
  await goto(page, '/verify');
  await page.setInputFiles('#verify-file', s.file1);
  const status = page.locator('#verify-status');
  await status.waitFor({ timeout: 5000 }).catch(() => {});
  check('verify finds a registered file', (await status.getAttribute('data-registered').catch(() => null)) === 'true');
  check('verify names the first registration', (await text(page, '#verify-result')).includes(s.obj1));
  await shot(page, 'verify-registered');
  const [dl] = await Promise.all([page.waitForEvent('download', { timeout: 5000 }), page.click('#download-proof')]);
  const bundle = path.join(tmp, 'prior-art.json');
  await dl.saveAs(bundle);
  fs.copyFileSync(bundle, path.join(artifacts, 'prior-art.json'));
  const { verifier_key } = await rpc('node_info');
  const v = await run(bin, ['verify', bundle, '--key', verifier_key, '--file', s.file1]).then(() => 0, (e) => e.stdout + e.stderr);
  check('the downloaded bundle verifies offline with pel verify --file', v === 0, v);
  await page.setInputFiles('#verify-file', s.unregistered);
  await page.locator('#verify-status[data-registered="false"]').waitFor({ timeout: 5000 }).catch(() => {});
  check('verify reports an unregistered file as not registered',
    (await text(page, '#verify-status')).startsWith('Not registered'));
  await shot(page, 'verify-unregistered');
  void browserCtx;
}

async function searchChecks(page, s) {
  await page.goto(base);
  const go = async (q) => { await page.fill('#search-input', q); await page.press('#search-input', 'Enter'); await sleep(100); };
  await go(s.obj1);
  await page.locator('#object-title').waitFor({ timeout: 5000 }).catch(() => {});
  check('search by object id opens the object', (await text(page, '#object-title')) === 'Field data 2026');
  await go(s.alice.address);
  await page.locator('#balance').waitFor({ timeout: 5000 }).catch(() => {});
  check('search by address opens the account', /^\d+$/.test(await text(page, '#balance')));
  await go(s.obj1Tx);
  await page.locator('#tx-status').waitFor({ timeout: 5000 }).catch(() => {});
  check('search by tx id opens the transaction', (await text(page, '#tx-status')) === 'committed');
  await go(String(s.obj1Height));
  await page.locator('#block-txs').waitFor({ timeout: 5000 }).catch(() => {});
  check('search by height opens the block', page.url().endsWith(`#/block/${s.obj1Height}`));
  await go('nonsense!');
  check('search explains what it did not understand', (await text(page, '#search-error')).includes('Not understood'));
}

// /metrics beside the explorer: Prometheus text agreeing with node_info.
async function metricsChecks() {
  const res = await fetch(`${base}metrics`);
  const body = await res.text();
  const info = await rpc('node_info');
  check('/metrics is Prometheus text', res.ok && (res.headers.get('content-type') || '').startsWith('text/plain; version=0.0.4'));
  const m = body.match(/^pel_chain_height (\d+)$/m);
  check('/metrics shows the chain height', m && Number(m[1]) === info.height, body.slice(0, 200));
  check('/metrics counts committed transactions', /^pel_transactions_committed_total [1-9]\d*$/m.test(body));
  const blocks = body.match(/^pel_blocks_produced_total (\d+)$/m);
  const count = body.match(/^pel_block_latency_seconds_count (\d+)$/m);
  check('/metrics block latency histogram counts every block', blocks && count && count[1] === blocks[1] && Number(count[1]) > 0, `${blocks} ${count}`);
  check('/metrics counts engine executions', /^pel_engine_executions_total [1-9]\d*$/m.test(body));
}

async function main() {
  const guard = setTimeout(() => { check('finishes within 90 s', false); cleanup(); finish(1); }, 90000);
  if (!fs.existsSync(bin)) { check(`pel binary at ${bin} (build it first: make)`, false); return; }
  if (!fs.existsSync(chromiumPath)) { check(`chromium at ${chromiumPath} (run scripts/install-deps.sh)`, false); return; }
  let chromium;
  try { ({ chromium } = await import('playwright-core')); } catch (e) {
    check('playwright-core in tests/browser/node_modules (run scripts/install-deps.sh)', false, e.message);
    return;
  }
  fs.mkdirSync(artifacts, { recursive: true });
  await startNode();
  const s = await seed();
  const browser = await chromium.launch({ executablePath: chromiumPath, headless: true });
  try {
    const ctx = await browser.newContext({ acceptDownloads: true, viewport: { width: 1280, height: 900 } });
    const page = await ctx.newPage();
    const pageErrors = [];
    page.on('pageerror', e => pageErrors.push(e.message));
    page.on('console', m => { if (m.type() === 'error') pageErrors.push(m.text()); });
    page.on('dialog', d => { pageErrors.push(`dialog: ${d.message()}`); d.dismiss(); });
    await dashboardChecks(page, s);
    await blockChecks(page, s);
    await objectChecks(page, s);
    await graphChecks(page, s);
    await preregChecks(page, s);
    await verifyChecks(page, s, ctx);
    await searchChecks(page, s);
    await metricsChecks();
    check('no script errors in the page', pageErrors.length === 0, pageErrors.join(' | '));
  } finally {
    await browser.close();
    clearTimeout(guard);
  }
}

function cleanup() {
  if (node && node.exitCode === null) node.kill('SIGTERM');
  if (tmp) fs.rmSync(tmp, { recursive: true, force: true });
}

main().then(() => { cleanup(); finish(); },
  (e) => { check('scenario runs', false, e.stack || e.message); cleanup(); finish(1); });
