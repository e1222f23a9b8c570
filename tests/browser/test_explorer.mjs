#!/usr/bin/env node
// test_explorer.mjs - the web explorer in a real headless browser (Debian's
// chromium driven by playwright-core): starts a `pel node` on a temporary
// directory and a free port, seeds a scenario through the `pel` CLI
// (transfers, two research objects with a derived-from link, a
// preregistration whose results switch outcomes, a review, a member DAO
// whose milestone grant is voted, executed and has one milestone released
// against a deliverable, and a rejected transfer proposal), then checks
// the dashboard (block events through GET /events, and polling when
// /events answers 404), block, object, provenance-graph, preregistration,
// review, DAO, proposal, search and verify-a-file pages. Builds nothing: it uses build/pel (or
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
const daoEvent = (r) => r.receipt.events.find(e => e.kind === 'dao');
const DAO_NAME = 'Open Soil Lab <i>2026</i>';

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
  await seedDao(s);
  return s;
}

// The DAO scenario of tests/node/test_dao_e2e.c, shortened: alice and bob
// are the members (3-block votes), the grant to dave (reviewer carol)
// passes 2-0 and is executed, dave registers the deliverable, carol
// releases milestone 0; a transfer proposal gets one "no" and is rejected.
async function seedDao(s) {
  s.dave = await account('dave');
  const mk = await pelJson('dao', 'create', '--name', DAO_NAME, '--mode', 'member', '--period', '3',
    '--member', s.bob.address, '--key', s.alice.key, '--wait');
  s.dao = daoEvent(mk).dao;
  await pel('dao', 'deposit', s.dao, '10000', '--key', s.alice.key, '--wait');
  const g = await pelJson('dao', 'propose', s.dao, '--grant', '--to', s.dave.address,
    '--milestone', '3000:cleaned soil dataset', '--milestone', '2000:analysis code',
    '--reviewer', s.carol.address, '--text', 'Soil survey 2026', '--key', s.alice.key);
  s.grant = daoEvent(g).proposal;
  const t = await pelJson('dao', 'propose', s.dao, '--transfer', '--to', s.dave.address, '--amount', '100',
    '--text', 'Travel money', '--key', s.bob.key);
  s.transfer = daoEvent(t).proposal;
  await pel('dao', 'vote', s.dao, String(s.grant), 'yes', '--key', s.alice.key, '--wait');
  await pel('dao', 'vote', s.dao, String(s.grant), 'yes', '--key', s.bob.key, '--wait');
  await pel('dao', 'vote', s.dao, String(s.transfer), 'no', '--key', s.alice.key, '--wait');
  const { deadline } = await rpc('dao_proposal', { dao: s.dao, proposal: s.grant });
  while ((await rpc('node_info')).height < deadline)        // executable from block deadline + 1
    await pel('faucet', s.dave.address, '--amount', '1', '--wait');
  await pel('dao', 'execute', s.dao, String(s.grant), '--key', s.carol.key, '--wait');
  const soil = path.join(tmp, 'soil.csv');
  fs.writeFileSync(soil, 'site,ph\nA,6.1\nB,7.3\n');
  const o = await pelJson('object', 'register', soil, '--kind', 'dataset', '--title', 'Cleaned soil data',
    '--license', 'CC-BY-4.0', '--key', s.dave.key, '--wait');
  s.deliverable = eventId(o, 'object');
  const rel = await pelJson('grant', 'release', s.dao, String(s.grant), '0', '--deliverable', s.deliverable,
    '--key', s.carol.key, '--wait');
  s.releaseHeight = rel.height;
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

const attr = (page, sel, name) => page.locator(sel).first().getAttribute(name, { timeout: 5000 }).catch(() => null);

// Height, wait until the dashboard shows more than `above` (up to ~5 s).
async function heightAbove(page, above) {
  let x = above;
  for (let i = 0; i < 50 && x <= above; i++) { await sleep(100); x = Number(await text(page, '#height')); }
  return x;
}

async function dashboardChecks(page, s) {
  const streams = [];                                   // the dashboard's /events requests and how each ended
  page.on('request', r => { if (new URL(r.url()).pathname === '/events') streams.push({ url: r.url(), end: null }); });
  const ended = (r, how) => { const x = streams.find(y => y.url === r.url() && !y.end); if (x) x.end = how; };
  page.on('requestfailed', r => ended(r, 'failed'));
  page.on('requestfinished', r => ended(r, 'finished'));
  await page.goto(base);
  await page.locator('#dashboard[data-live="events"]').waitFor({ timeout: 5000 }).catch(() => {});
  check('dashboard follows GET /events', (await attr(page, '#dashboard', 'data-live')) === 'events',
    await attr(page, '#dashboard', 'data-live'));
  const h1 = Number(await text(page, '#height'));
  const info = await rpc('node_info');
  check('dashboard shows the height', h1 === info.height, `${h1} vs ${info.height}`);
  check('dashboard lists the latest blocks', (await page.locator('#latest-blocks tbody tr').count()) >= 5);
  check('dashboard says how blocks are ordered', (await text(page, '#ordering')) === 'single node',
    await text(page, '#ordering'));
  check('the stream starts after the height shown', streams.length === 1 && streams[0].url.endsWith(`/events?from=${h1}`),
    JSON.stringify(streams));
  await pel('faucet', s.bob.address);                   // an idle devnet does not grow: make a block
  const h2 = await heightAbove(page, h1);
  check('dashboard height advances', h2 > h1, `${h1} -> ${h2}`);
  const n = Number(await attr(page, '#dashboard', 'data-live-events'));
  check('dashboard received the block through the event stream', n >= 1, n);
  check('the new block heads the latest blocks', (await text(page, '#latest-blocks tbody tr')).startsWith(`#${h2}`));
  await shot(page, 'dashboard');
  await page.click('#nav-dao');
  await page.locator('#dao-open-input').waitFor({ timeout: 5000 }).catch(() => {});
  check('the DAO entry in the navigation opens the DAO form', (await page.locator('#dao-open-input').count()) === 1);
  for (let i = 0; i < 20 && streams.some(x => !x.end); i++) await sleep(50);
  check('leaving the dashboard closes the event stream', streams.length === 1 && streams[0].end !== null, JSON.stringify(streams));
}

// A node without /events (the endpoint answering 404): the dashboard
// falls back to polling node_info and still follows new blocks.
async function fallbackChecks(ctx, s) {
  const page = await ctx.newPage();
  const errors = [];
  page.on('pageerror', e => errors.push(e.message));
  await page.route(u => u.pathname === '/events', r => r.fulfill({ status: 404, contentType: 'text/plain', body: 'not found\n' }));
  await page.goto(base);
  await page.locator('#dashboard[data-live="polling"]').waitFor({ timeout: 5000 }).catch(() => {});
  check('without /events the dashboard falls back to polling', (await attr(page, '#dashboard', 'data-live')) === 'polling');
  const h1 = Number(await text(page, '#height'));
  check('polling dashboard shows the height and blocks', h1 > 0 && (await page.locator('#latest-blocks tbody tr').count()) >= 5, h1);
  await pel('faucet', s.bob.address);
  const h2 = await heightAbove(page, h1);
  check('polling dashboard height advances', h2 > h1, `${h1} -> ${h2}`);
  check('polling dashboard counts no block events', (await attr(page, '#dashboard', 'data-live-events')) === '0');
  check('no script errors on the polling dashboard', errors.length === 0, errors.join(' | '));
  await page.close();
}

async function blockChecks(page, s) {
  await goto(page, `/block/${s.obj1Height}`);
  await page.locator('#block-txs tbody tr').first().waitFor({ timeout: 5000 });
  const t = await text(page, '#block-txs');
  check('block page lists its transaction', t.includes(s.obj1Tx.slice(0, 10)), t);
  check('block page shows the receipt and event', t.includes('success') && t.includes(s.obj1));
  check('a known event is shown decoded, without its raw data', !t.includes('data='), t);
  await shot(page, 'block');
  await goto(page, `/block/${s.releaseHeight}`);
  await page.locator('#block-txs [data-kind="dao"]').first().waitFor({ timeout: 5000 }).catch(() => {});
  const ev = await text(page, '#block-txs [data-kind="dao"]');
  check('block page shows the dao event of a release', ev.includes('op=release') && ev.includes(s.dao)
    && ev.includes('milestone=0') && ev.includes(s.carol.address) && !ev.includes('data='), ev);
  const href = await page.locator('#block-txs [data-kind="dao"] a').nth(1).getAttribute('href').catch(() => null);
  check('the dao event links to its proposal', href === `#/dao/${encodeURIComponent(s.dao)}/${s.grant}`, href);
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

async function daoChecks(page, s) {
  await goto(page, `/dao/${s.dao}`);
  await page.locator('#dao-name').waitFor({ timeout: 5000 }).catch(() => {});
  check('DAO page shows the name, as text', (await text(page, '#dao-name')) === DAO_NAME
    && (await page.locator('#dao-name i').count()) === 0, await text(page, '#dao-name'));
  const members = await text(page, '#dao-members');
  check('DAO page lists the members', members.includes(s.alice.address) && members.includes(s.bob.address)
    && (await page.locator('#dao-members a').count()) === 2, members);
  check('DAO page shows the treasury balance', (await text(page, '#dao-treasury-balance')) === '5000');
  const body = await text(page, '#view');
  check('DAO page shows mode, period, quorum and threshold', body.includes('member: one vote each') && body.includes('3 blocks')
    && body.includes('50% of the total weight') && body.includes('50% of yes + no'), body);
  const rows = page.locator('#dao-proposals tbody tr');
  await rows.nth(1).waitFor({ timeout: 5000 }).catch(() => {});
  const r0 = await rows.nth(0).innerText().catch(() => ''), r1 = await rows.nth(1).innerText().catch(() => '');
  check('DAO page lists the proposals newest first, with status badges',
    (await rows.count()) === 2 && r0.startsWith(`#${s.transfer}`) && r0.includes('rejected') && r0.includes('Travel money')
    && r1.startsWith(`#${s.grant}`) && r1.includes('executed') && r1.includes('Soil survey 2026'), `${r0} | ${r1}`);
  check('DAO page draws a tally bar per proposal', (await page.locator('#dao-proposals .tally-bar').count()) === 2
    && r1.includes('yes 2 · no 0 · abstain 0') && r0.includes('yes 0 · no 1 · abstain 0'));
  await shot(page, 'dao');
  await rows.nth(1).locator('a').first().click();
  await page.locator('#proposal-status').waitFor({ timeout: 5000 }).catch(() => {});
  check('the proposal list links to the proposal', page.url().endsWith(`/${s.grant}`), page.url());
  check('proposal page shows the status "executed"', (await attr(page, '#proposal-status', 'data-status')) === 'executed'
    && (await text(page, '#proposal-status')) === 'executed');
  const tally = await text(page, '#proposal-tally');
  check('proposal page shows the tally with quorum and threshold', tally.includes('yes 2 · no 0 · abstain 0')
    && tally.includes('50%: 2 voted of 1 needed') && tally.includes('yes is 100%') && tally.includes('passes'), tally);
  const pbody = await text(page, '#view');
  check('proposal page shows proposer, recipient and reviewer', pbody.includes(s.alice.address)
    && pbody.includes(s.dave.address) && pbody.includes(s.carol.address) && pbody.includes('Soil survey 2026'));
  check('proposal page shows the escrow balance', (await text(page, '#grant-escrow-balance')) === '2000');
  const ms = page.locator('#milestones tbody tr');
  const m0 = await ms.nth(0).innerText().catch(() => ''), m1 = await ms.nth(1).innerText().catch(() => '');
  check('proposal page lists the milestones with amounts and deliverables', (await ms.count()) === 2
    && m0.includes('3000') && m0.includes('cleaned soil dataset') && m1.includes('2000') && m1.includes('analysis code'), `${m0} | ${m1}`);
  check('milestone 0 released, milestone 1 not',
    (await attr(page, '#milestones tbody tr:nth-child(1) [data-released]', 'data-released')) === 'true'
    && (await attr(page, '#milestones tbody tr:nth-child(2) [data-released]', 'data-released')) === 'false');
  await page.fill('#vote-lookup-input', s.bob.address);
  await page.press('#vote-lookup-input', 'Enter');
  await page.locator('#vote-lookup p').waitFor({ timeout: 5000 }).catch(() => {});
  check('proposal page looks up a member\'s vote', (await text(page, '#vote-lookup')).endsWith('voted yes with weight 1.'),
    await text(page, '#vote-lookup'));
  await shot(page, 'dao-proposal');
  await ms.nth(0).locator(`a[href="#/object/${encodeURIComponent(s.deliverable)}"]`).click({ timeout: 5000 }).catch(() => {});
  await page.locator('#object-title').waitFor({ timeout: 5000 }).catch(() => {});
  check('the released milestone links to its deliverable object', (await text(page, '#object-title')) === 'Cleaned soil data');
  await goto(page, `/dao/${s.dao}/${s.transfer}`);
  await page.locator('#proposal-status').waitFor({ timeout: 5000 }).catch(() => {});
  const tbody = await text(page, '#view');
  check('a rejected transfer proposal shows its action', (await attr(page, '#proposal-status', 'data-status')) === 'rejected'
    && tbody.includes(s.dave.address) && tbody.includes('100') && tbody.includes('does not pass'), tbody);
  await goto(page, '/dao');
  await page.fill('#dao-open-input', s.dao);
  await page.press('#dao-open-input', 'Enter');
  await page.locator('#dao-name').waitFor({ timeout: 5000 }).catch(() => {});
  check('the DAO form opens a DAO by id', (await text(page, '#dao-name')) === DAO_NAME);
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
  await go(s.dao.toUpperCase().replace('PEL:DAO:', 'pel:dao:'));
  await page.locator('#dao-name').waitFor({ timeout: 5000 }).catch(() => {});
  check('search by DAO id opens the DAO', (await text(page, '#dao-name')) === DAO_NAME);
  await go(`${s.dao}/${s.grant}`);
  await page.locator('#proposal-status').waitFor({ timeout: 5000 }).catch(() => {});
  check('search by pel:dao:…/N opens the proposal', page.url().endsWith(`/${s.grant}`) && (await page.locator('#milestones').count()) === 1);
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
    await fallbackChecks(ctx, s);
    await blockChecks(page, s);
    await objectChecks(page, s);
    await graphChecks(page, s);
    await preregChecks(page, s);
    await daoChecks(page, s);
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
