// app.js - the PEL explorer: hash routing (#/block/12, #/object/pel:obj:…)
// and one render function per page, all reading the node's JSON-RPC API
// (docs/API.md); the dashboard also follows GET /events (server-sent
// events) and falls back to polling without it. Pages build DOM with
// lib.js's h(), never from HTML text.

import { h, rpc, clear, kv, table, link, short, time, errorBox, hexOf, pct, big, RpcError, NOT_FOUND } from './lib.js';
import { ProvenanceGraph } from './graph.js';

const view = document.getElementById('view');
let timer = null;          // the dashboard's poll; stopped on every navigation
let stream = null;         // the dashboard's EventSource; closed on every navigation
let generation = 0;        // bumps per navigation: late answers of old pages are dropped

const routes = [
  [/^\/?$/, dashboard],
  [/^\/block\/(.+)$/, blockPage],
  [/^\/tx\/([0-9a-fA-F]{64})$/, txPage],
  [/^\/account\/(.+)$/, accountPage],
  [/^\/object\/(.+)$/, objectPage],
  [/^\/graph\/(.+)$/, graphPage],
  [/^\/prereg\/(.+)$/, preregPage],
  [/^\/review\/(.+)$/, reviewPage],
  [/^\/verify$/, verifyPage],
  [/^\/dao\/?$/, daoOpenPage],
  [/^\/dao\/([^/]+)\/(\d+)$/, proposalPage],
  [/^\/dao\/([^/]+)$/, daoPage],
];

function stopLive() {
  if (timer) { clearInterval(timer); timer = null; }
  if (stream) { stream.close(); stream = null; }
}

async function route() {
  stopLive();
  const gen = ++generation;
  const path = decodeURIComponent(location.hash.replace(/^#/, '')) || '/';
  const page = h('div', { class: 'page' });
  clear(view).appendChild(page);
  for (const [re, fn] of routes) {
    const m = path.match(re);
    if (!m) continue;
    try { await fn(page, m[1], () => gen === generation, m[2]); } catch (e) { page.appendChild(errorBox(e)); }
    return;
  }
  page.appendChild(h('div', { class: 'error' }, `no such page: ${path}`));
}

// ---- search ----

export function searchTarget(q) {
  q = q.trim();
  if (/^\d+$/.test(q)) return `#/block/${q}`;
  if (/^[0-9a-fA-F]{64}$/.test(q)) return `#/tx/${q.toLowerCase()}`;
  if (/^pel1[0-9a-z]+$/i.test(q)) return `#/account/${q}`;
  if (/^pel:obj:[0-9a-f]{32}(@v\d+)?$/i.test(q)) return `#/object/${q}`;
  if (/^pel:prereg:[0-9a-f]{32}$/i.test(q)) return `#/prereg/${q}`;
  const dao = q.match(/^(pel:dao:[0-9a-f]{32})(?:[/#](\d+))?$/i);     // a DAO, or pel:dao:…/N a proposal
  if (dao) return `#/dao/${dao[1].toLowerCase()}${dao[2] ? `/${Number(dao[2])}` : ''}`;
  return null;
}

document.getElementById('search').addEventListener('submit', (ev) => {
  ev.preventDefault();
  const input = document.getElementById('search-input');
  const t = searchTarget(input.value);
  if (t) { location.hash = t; return; }
  const page = clear(view).appendChild(h('div', { class: 'page' }));
  page.appendChild(h('div', { class: 'error', id: 'search-error' },
    'Not understood: give a block height, a 64-hex transaction id, a pel1… address, a pel:obj:…, pel:prereg:… or pel:dao:… id.'));
});

// ---- dashboard ----

// Cards from node_info, polled every second (tps, mempool, timings). The
// height and the latest blocks follow GET /events: one server-sent event
// per committed block, asked from the height already shown so that none is
// missed in between. If the stream fails (a node without /events answers
// 404) the page falls back to polling node_info for those too.
// #dashboard's data-live says which ("connecting", "events", "polling");
// data-live-events counts the block events received.
async function dashboard(page, _, live) {
  const cards = h('div', { class: 'cards' });
  const notice = h('div');
  const blocks = h('div', { id: 'latest-blocks' });
  const mode = h('span', { id: 'live-mode' }, 'connecting…');
  const dash = h('div', { id: 'dashboard', 'data-live': 'connecting', 'data-live-events': '0' },
    cards, notice, h('h2', null, 'Latest blocks ', h('small', { class: 'live' }, mode)), blocks);
  page.append(h('h1', null, 'Dashboard'), dash);
  const value = {};
  const card = (label, id) => {
    value[id] = h('div', { class: 'value', id });
    return h('div', { class: 'card' }, h('div', { class: 'label' }, label), value[id]);
  };
  cards.append(card('height', 'height'), card('tps (10 s)', 'tps'), card('mempool', 'mempool'),
    card('transactions', 'txcount'), card('last exec / commit', 'timings'), card('chain', 'chain'), card('engine', 'engine'),
    card('ordering', 'ordering'));
  let height = -1, rows = [], events = 0, polling = false, loading = false;
  const showBlocks = () => clear(blocks).appendChild(table(['height', 'time', 'txs', 'hash'],
    rows.map(b => [link.block(b.height), time(b.timestamp_ms), b.tx_count, h('span', { class: 'mono' }, short(b.hash))])));
  const setHeight = (x) => { if (x > height) { height = x; value.height.textContent = String(x); } };
  const loadBlocks = async (top) => {
    const hs = [];
    for (let x = top; x >= 0 && hs.length < 10; x--) hs.push(x);
    // the header fields only: one transaction id, not a whole (maybe 10k) list
    const bs = await Promise.all(hs.map(x => rpc('block', { height: x, limit: 1 }).catch(() => null)));
    if (!live()) return;
    rows = merge(rows, bs.filter(Boolean));
    showBlocks();
  };
  const tick = async () => {
    let info;
    try { info = await rpc('node_info'); } catch (e) { clear(notice).appendChild(errorBox(e)); return; }
    if (!live()) return;
    clear(notice);
    value.tps.textContent = info.stats.tps_recent.toFixed(1);
    value.mempool.textContent = String(info.mempool.txs);
    value.txcount.textContent = String(info.history_size);
    value.timings.textContent = `${info.stats.last_exec_ms.toFixed(1)} / ${info.stats.last_commit_ms.toFixed(1)} ms`;
    value.chain.textContent = info.chain_id;
    value.engine.textContent = `${info.engine} × ${info.threads}`;
    value.ordering.textContent = ordering(info.ordering);
    if (info.failed) notice.appendChild(h('div', { class: 'banner' }, `node stopped: ${info.failed}`));
    const div = info.ordering && info.ordering.diverged;
    if (div) notice.appendChild(h('div', { class: 'banner', id: 'diverged' },
      `this node DIVERGED from the cluster at height ${div.height}: its state root differs from the one ` +
      `${div.disagreeing_members} of ${div.members} members sign; do not trust its answers`));
    if ((height < 0 || (polling && info.height !== height)) && !loading) {
      loading = true;
      try { setHeight(info.height); await loadBlocks(info.height); } finally { loading = false; }
    }
  };
  const fallBack = () => {
    polling = true;
    dash.dataset.live = 'polling';
    mode.textContent = 'polling every second';
  };
  const onBlock = (b) => {
    if (!live() || typeof b.height !== 'number') return;
    dash.dataset.liveEvents = String(++events);
    setHeight(b.height);
    rows = merge(rows, [b]);
    showBlocks();
  };
  await tick();
  if (!live()) return;
  stream = openBlockStream(height, onBlock, () => { stream = null; if (live()) fallBack(); },
    () => { if (live() && !polling) { dash.dataset.live = 'events'; mode.textContent = 'live (server-sent events)'; } });
  if (!stream) fallBack();
  timer = setInterval(() => { if (live()) tick(); }, 1000);
}

// node_info.ordering in a few words: "single node", or a cluster member's
// Raft role, id, voters and the leader it follows.
function ordering(o) {
  if (!o || o.backend !== 'raft') return 'single node';
  const parts = [`raft ${o.role}`, `member ${o.id}`];
  if (o.member === 'removed') parts.push('REMOVED from the cluster');
  else if (o.member === 'none') parts.push('waiting for the leader');
  else if (o.member && o.member !== 'voter') parts.push(o.member);
  if (o.voters) parts.push(`${o.voters} voters`);
  if (o.role !== 'leader' && o.leader_id) parts.push(`leader ${o.leader_id}`);
  return parts.join(' · ');
}

// The ten highest of two lists of block summaries, one per height, newest first.
function merge(a, b) {
  const by = new Map();
  for (const x of [...a, ...b]) by.set(x.height, x);
  return [...by.values()].sort((x, y) => y.height - x.height).slice(0, 10);
}

// EventSource on /events after height `from`; null where the browser has
// none. Any error closes it for good (onFail): EventSource would otherwise
// retry forever, and a node without /events never starts answering.
function openBlockStream(from, onBlock, onFail, onOpen) {
  if (typeof EventSource === 'undefined') return null;
  const es = new EventSource(from >= 0 ? `events?from=${from}` : 'events');
  es.addEventListener('open', onOpen);
  es.addEventListener('block', (ev) => {
    let b;
    try { b = JSON.parse(ev.data); } catch { return; }
    onBlock(b);
  });
  es.addEventListener('error', () => { es.close(); onFail(); });
  return es;
}

// ---- blocks and transactions ----

// A receipt's event: the decoded fields of the kinds the node knows (their
// raw "data" left out), else the raw bytes.
function eventView(ev) {
  if (ev.kind === 'dao') return daoEventView(ev);
  if (!ev.kind) return h('div', { class: 'event' }, h('span', { class: 'pill' }, 'event'), ' data=', h('span', { class: 'mono' }, ev.data));
  const parts = [h('span', { class: 'pill' }, ev.kind)];
  for (const [k, v] of Object.entries(ev)) {
    if (k === 'kind' || k === 'data') continue;
    let val = typeof v === 'object' ? JSON.stringify(v) : String(v);
    let node = val;
    if (k === 'id' && /^pel:obj:/.test(val)) node = link.object(val);
    else if (k === 'id' && /^pel:prereg:/.test(val)) node = link.prereg(val);
    else if (/^pel1/.test(val)) node = link.account(val);
    if (k === 'outcome_switched' && v === true) node = h('span', { class: 'flag' }, 'OUTCOME-SWITCHED');
    parts.push(' ', `${k}=`, node);
  }
  return h('div', { class: 'event' }, parts);
}

function daoEventView(ev) {
  const parts = [h('span', { class: 'pill' }, 'dao'), ' op=', h('strong', null, ev.op), ' dao=', link.dao(ev.dao)];
  if (ev.proposal) parts.push(' proposal=', link.proposal(ev.dao, ev.proposal));
  parts.push(' sender=', link.account(ev.sender));
  if (ev.amount !== undefined) parts.push(` amount=${ev.amount}`);
  if (ev.choice !== undefined) parts.push(` choice=${ev.choice}`);
  if (ev.milestone !== undefined) parts.push(` milestone=${ev.milestone}`);
  return h('div', { class: 'event', 'data-kind': 'dao' }, parts);
}

function receiptView(r) {
  if (!r) return '-';
  return h('div', null,
    h('span', { class: r.ok ? 'ok' : 'bad' }, r.ok ? 'success' : `failed: ${r.message} (${r.status})`),
    ` · gas ${r.gas_used} · fee ${r.fee}`,
    (r.events || []).map(eventView));
}

async function blockPage(page, arg) {
  const height = arg === 'latest' ? 'latest' : Number(arg);
  const b = await rpc('block', { height, limit: 1 });    // the header; the transactions page below
  const txs = h('div');
  page.append(
    h('h1', null, `Block ${b.height}`),
    h('p', null, b.height > 0 ? h('a', { href: `#/block/${b.height - 1}` }, '← previous') : null, ' ',
      h('a', { href: `#/block/${b.height + 1}` }, 'next →')),
    kv([['hash', h('span', { class: 'mono' }, b.hash)], ['previous', h('span', { class: 'mono' }, b.prev_hash)],
        ['time', time(b.timestamp_ms)], ['transactions', b.tx_count],
        ['state root', h('span', { class: 'mono' }, b.state_root)],
        ['history', `${b.history_size} · ${b.history_root}`], ['proposer', h('span', { class: 'mono' }, b.proposer)]]),
    h('h2', null, `Transactions (${b.tx_count})`), txs);
  let index = 0;
  await pager(txs, (from) => rpc('block', { height: b.height, receipts: true, from: from || 0, limit: 100 }),
    r => r.txs, ['#', 'id', 'from', 'nonce', 'receipt'],
    t => [index++, link.tx(t.id), link.account(t.from), t.nonce, receiptView(t.receipt)]);
  txs.querySelector('table').id = 'block-txs';
}

async function txPage(page, id) {
  const s = await rpc('tx_status', { id });
  page.append(h('h1', null, 'Transaction'), kv([
    ['id', h('span', { class: 'mono' }, s.id)],
    ['status', h('span', { id: 'tx-status' }, s.status)],
    ['block', s.height !== undefined ? link.block(s.height) : null],
    ['index', s.index],
    ['reason', s.reason ? `${s.reason} (${s.code})` : null],
    ['receipt', s.receipt ? receiptView(s.receipt) : null]]));
  if (s.status === 'unknown') {
    // 64 hex may also be a file's SHA-256
    try {
      const f = await rpc('object_first', { sha256: id });
      page.appendChild(h('p', { class: 'note' }, 'This is the SHA-256 of registered content: first registered as ',
        link.object(`${f.id}@v${f.version}`), ` at height ${f.height}.`));
    } catch (e) { if (!(e instanceof RpcError)) throw e; }
  }
}

// ---- accounts ----

async function accountPage(page, addr) {
  const a = await rpc('account', { address: addr });
  page.append(h('h1', null, 'Account'), kv([
    ['address', h('span', { class: 'mono' }, a.address)], ['balance', h('span', { id: 'balance' }, a.balance)],
    ['nonce', a.nonce], ['next nonce', a.next_nonce]]),
  h('h2', null, 'Contributions'));
  const list = h('div');
  page.appendChild(list);
  await pager(list, (after) => rpc('contributions', { address: addr, limit: 50, ...(after ? { after } : {}) }),
    r => r.objects, ['object', 'kind', 'title', 'height', 'CRediT roles'],
    o => [link.object(o.id), o.kind, o.title, link.block(o.height), o.roles.map(x => h('span', { class: 'pill' }, x))]);
}

// A paged list: fetch(after) -> {…, next}; rows(reply) -> items; "More" appends.
async function pager(el, fetchPage, items, headers, row) {
  const tbody = h('tbody');
  el.appendChild(h('table', null, h('thead', null, h('tr', null, headers.map(x => h('th', null, x)))), tbody));
  const more = h('button', { class: 'more' }, 'More');
  let next = null;
  const load = async () => {
    const r = await fetchPage(next);
    for (const it of items(r)) tbody.appendChild(h('tr', null, row(it).map(c => h('td', null, c))));
    next = r.next;
    if (next) { if (!more.isConnected) el.appendChild(more); } else more.remove();
    if (!tbody.firstChild) tbody.appendChild(h('tr', null, h('td', { colspan: headers.length }, 'none')));
  };
  more.addEventListener('click', () => load().catch(e => el.appendChild(errorBox(e))));
  await load();
}

// ---- research objects ----

async function objectPage(page, id) {
  const o = await rpc('object', { id });
  const base = o.id;
  const versions = [];
  for (let v = 1; v <= o.versions; v++) {
    const vid = `${base}@v${v}`;
    versions.push(v === o.version ? h('strong', { class: 'pill' }, `v${v}`) : h('a', { class: 'pill', href: `#/object/${encodeURIComponent(vid)}` }, `v${v}`));
  }
  page.append(
    h('h1', { id: 'object-title' }, o.title),
    h('p', null, h('span', { class: 'pill' }, o.kind), ' ', h('span', { class: 'mono' }, `${base}@v${o.version}`), ' · ', link.graph(`${base}@v${o.version}`)),
    kv([['versions', h('span', { id: 'object-versions' }, versions)], ['creator', link.account(o.creator)],
        ['registrant', link.account(o.registrant)], ['maintainers', o.maintainers.map(m => h('div', null, link.account(m)))],
        ['registered', h('span', null, 'block ', link.block(o.height), ' · tx ', link.tx(o.tx))],
        ['licence (SPDX)', o.license], ['URIs', o.uris.length ? o.uris.map(u => h('div', { class: 'mono' }, u)) : '-'],
        ['cited by', o.cited_by]]),
    h('h2', null, 'Digests'),
    table(['SHA-256', 'multihash', 'first registration'], o.digests.map(d =>
      [h('a', { href: `#/tx/${d.sha256}`, class: 'mono' }, d.sha256), h('span', { class: 'mono' }, d.multihash),
       d.first ? h('span', { class: 'ok' }, 'yes') : h('span', { class: 'bad' }, 'no (registered before)')])),
    h('h2', null, 'Contributors'),
    table(['address', 'CRediT roles'], o.contributors.map(c => [link.account(c.address), c.roles.map(r => h('span', { class: 'pill' }, r))]),
      { id: 'object-contributors' }),
    h('h2', null, 'Links (what it builds on)'),
    table(['relation', 'target'], o.links.map(l => [l.relation, link.object(l.version ? `${l.target}@v${l.version}` : l.target)])));
  const down = await rpc('object_downstream', { id: base, depth: 1 }).catch(() => ({ edges: [] }));
  page.append(h('h2', null, 'What builds on it'),
    table(['object', 'relation', 'version'], down.edges.map(e => [
      e.relation === 'reviews' ? h('span', null, link.object(e.from), ' ', h('a', { href: `#/review/${encodeURIComponent(e.from)}` }, '(the review)')) : link.object(e.from),
      e.relation, e.to_version ? `v${e.to_version}` : 'any'])));
  if (o.kind === 'review') page.append(h('p', null, 'This object is a review: ', link.review(base)));
  await licenceSection(page, base);
  await sharesSection(page, base);
}

async function licenceSection(page, id) {
  page.appendChild(h('h2', null, 'Licence terms'));
  const first = await rpc('licence', { id, limit: 50 });
  const t = first.terms;
  page.appendChild(t ? kv([['price', t.price], ['revision', t.revision], ['upstream share', `${t.upstream_bps / 100}%`],
    ['parties', t.parties.map(p => h('div', null, link.account(p.address), ` ${p.bps / 100}%`))],
    ['sold', first.sold], ['revenue', first.revenue]]) : h('p', null, 'No licence terms set.'));
  if (!t) return;
  page.appendChild(h('h2', null, 'Purchases'));
  const list = h('div');
  page.appendChild(list);
  let firstUsed = false;
  await pager(list, (after) => {
    if (!firstUsed) { firstUsed = true; return Promise.resolve(first); }
    return rpc('licence', { id, limit: 50, after });
  }, r => r.purchases, ['buyer', 'price', 'revision', 'block'],
  p => [link.account(p.buyer), p.price, p.revision, link.block(p.height)]);
}

async function sharesSection(page, id) {
  page.appendChild(h('h2', null, 'Share class'));
  try {
    const s = await rpc('shares', { id });
    page.appendChild(kv([['shares', s.shares], ['creator', link.account(s.creator)], ['since block', link.block(s.height)],
      ['pool', link.account(s.pool)], ['pool balance', s.pool_balance]]));
  } catch (e) {
    if (!(e instanceof RpcError)) throw e;
    page.appendChild(h('p', null, 'No share class: revenue goes to the licence parties directly.'));
  }
}

async function graphPage(page, id) {
  const box = h('div', { id: 'graph' });
  page.append(h('h1', null, 'Provenance graph'),
    h('p', null, 'Arrows point from a work to what it builds on. Click a node to expand its parents and children; double click opens it.'),
    box);
  const g = new ProvenanceGraph(box, id.replace(/@v\d+$/, ''), (x) => { location.hash = `#/object/${encodeURIComponent(x)}`; });
  g.draw();
  await g.expand(id.replace(/@v\d+$/, ''));
}

// ---- preregistration and review ----

async function preregPage(page, id) {
  const [p, info] = await Promise.all([rpc('prereg', { id }), rpc('node_info')]);
  const byHeight = p.embargo_height > 0 && info.height < p.embargo_height;
  const byTime = Number(p.embargo_time_ms) > 0 && Date.now() < Number(p.embargo_time_ms);
  const embargo = byHeight || byTime ? 'under embargo' : 'embargo over';
  page.append(h('h1', null, 'Preregistration'));
  if (p.outcome_switched)
    page.appendChild(h('div', { class: 'banner', id: 'outcome-switched' },
      'OUTCOME-SWITCHED: reported results differ from the primary outcomes committed up front.'));
  page.append(kv([
    ['id', h('span', { class: 'mono' }, p.id)], ['registrant', link.account(p.registrant)],
    ['committed', h('span', null, 'block ', link.block(p.height), ` · ${time(p.time_ms)}`)],
    ['embargo', h('span', { id: 'embargo' }, `${embargo} (until ${p.embargo_height ? 'height ' + p.embargo_height : ''}${p.embargo_height && Number(p.embargo_time_ms) ? ' and ' : ''}${Number(p.embargo_time_ms) ? time(p.embargo_time_ms) : ''})`)],
    ['registry id', p.registry_id || '-'], ['sample size', p.sample_size],
    ['revealed', p.revealed ? h('span', null, `yes, at block `, link.block(p.reveal_height), ' by ', link.account(p.revealer)) : 'no (protocol and outcomes still private)'],
    ['protocol SHA-256', p.protocol_sha256 ? h('span', { class: 'mono' }, p.protocol_sha256) : null],
    ['primary outcomes', p.primary_outcomes ? p.primary_outcomes.map(x => h('span', { class: 'pill' }, x)) : null],
    ['commitment', h('span', { class: 'mono' }, p.commitment)]]));
  page.append(h('h2', null, 'Results'), table(['object', 'block', 'reported outcomes', 'check'], (p.results || []).map(r => [
    link.object(r.object), link.block(r.height), r.reported.map(x => h('span', { class: 'pill' }, x)),
    r.outcome_switched ? h('span', null, h('span', { class: 'flag' }, 'OUTCOME-SWITCHED'),
      r.added.length ? ` added: ${r.added.join(', ')}` : '', r.dropped.length ? ` dropped: ${r.dropped.join(', ')}` : '')
      : h('span', { class: 'ok' }, 'matches the preregistration')])),
  h('h2', null, 'Status history'), table(['status', 'block', 'time'], (p.status || []).map(s => [s.status, link.block(s.height), time(s.time_ms)])));
}

async function reviewPage(page, id) {
  const r = await rpc('review', { id });
  page.append(h('h1', null, 'Review'), kv([
    ['review object', link.object(r.id)], ['reviews', link.object(r.reviews)],
    ['recommendation', h('strong', { id: 'recommendation' }, r.recommendation)],
    ['reviewer', r.pseudonymous ? h('span', null, link.account(r.reviewer), ' (pseudonymous key)') : link.account(r.reviewer)],
    ['competing interests', r.competing_interests], ['review text SHA-256', h('span', { class: 'mono' }, r.review_sha256)],
    ['block', link.block(r.height)]]));
}

// ---- verify a file ----

async function verifyPage(page) {
  const input = h('input', { type: 'file', id: 'verify-file' });
  const out = h('div', { id: 'verify-result' });
  page.append(h('h1', null, 'Verify a file'),
    h('p', null, 'The file is hashed here, in your browser (SHA-256); only the digest is sent to the node, which says whether and when this exact content was registered.'),
    input, out);
  input.addEventListener('change', () => verifyFile(input.files[0], out).catch(e => clear(out).appendChild(errorBox(e))));
}

async function verifyFile(file, out) {
  if (!file) return;
  clear(out).appendChild(h('p', null, `hashing ${file.name}…`));
  const digest = hexOf(await crypto.subtle.digest('SHA-256', await file.arrayBuffer()));
  let f;
  try { f = await rpc('object_first', { sha256: digest }); } catch (e) {
    if (!(e instanceof RpcError) || e.code !== NOT_FOUND) throw e;
    clear(out).append(h('p', { class: 'note', id: 'verify-status', 'data-registered': 'false' },
      `Not registered: no object on this ledger has the content of ${file.name}.`),
      kv([['SHA-256', h('span', { class: 'mono' }, digest)]]));
    return;
  }
  const first = `${f.id}@v${f.version}`;
  const [obj, blk] = await Promise.all([rpc('object', { id: first }), rpc('block', { height: f.height })]);
  const bundle = h('button', { id: 'download-proof' }, 'Download the prior-art proof bundle');
  bundle.addEventListener('click', () => downloadBundle(obj, bundle).catch(e => out.appendChild(errorBox(e))));
  clear(out).append(h('p', { class: 'ok', id: 'verify-status', 'data-registered': 'true' },
    `Registered: ${file.name} was first registered at block ${f.height} (${time(blk.timestamp_ms)}) by ${f.registrant}.`),
  kv([['SHA-256', h('span', { class: 'mono' }, digest)], ['first registration', link.object(first)],
    ['title', obj.title], ['block', link.block(f.height)], ['registrant', link.account(f.registrant)], ['transaction', link.tx(obj.tx)],
    ['registrations', `${f.registrations.length}${f.truncated ? '+' : ''}`]]),
  table(['object', 'block', 'index'], f.registrations.map(r => [link.object(`${r.id}@v${r.version}`), link.block(r.height), r.index])),
  h('p', null, bundle),
  h('p', null, 'The bundle is the registering transaction\'s inclusion proof, with its receipt and the block\'s signed checkpoint; check it offline with ',
    h('code', null, 'pel verify prior-art.json --key <verifier key> --file <this file>'), '.'));
}

async function downloadBundle(obj, button) {
  const proof = await rpc('prove_tx', { id: obj.tx, height: obj.height });
  const blob = new Blob([JSON.stringify(proof, null, 2) + '\n'], { type: 'application/json' });
  const a = h('a', { download: 'prior-art.json' });
  a.href = URL.createObjectURL(blob);
  document.body.appendChild(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(a.href), 10000);
  button.textContent = 'Downloaded prior-art.json';
}

// ---- research-funding DAOs ----

const DAO_ID = /^pel:dao:[0-9a-f]{32}$/i;
const STATUSES = ['open', 'passed', 'rejected', 'executed'];

function statusBadge(status, id) {
  const known = STATUSES.includes(status);
  return h('span', { class: known ? `badge badge-${status}` : 'badge', id, 'data-status': status }, status);
}

// Yes / no / abstain as stacked bars over the total weight (or the votes,
// if they exceed it), with the quorum marked when quorumBps is given.
function tallyBar(t, total, quorumBps) {
  const yes = big(t && t.yes), no = big(t && t.no), abstain = big(t && t.abstain);
  const weight = big(total), voted = yes + no + abstain;
  const scale = voted > weight ? voted : weight;
  const share = (x) => (scale > 0n ? Number((x * 10000n) / scale) / 100 : 0);
  const seg = (cls, x) => {
    const s = h('span', { class: `seg ${cls}`, title: `${cls} ${x}` });
    s.style.width = `${share(x)}%`;          // CSSOM, allowed by the page's CSP (no inline style)
    return s;
  };
  const bar = h('div', { class: 'tally-bar', role: 'img',
                         'aria-label': `yes ${yes}, no ${no}, abstain ${abstain} of ${weight}` },
    seg('yes', yes), seg('no', no), seg('abstain', abstain));
  if (quorumBps !== undefined && scale > 0n) {
    const mark = h('span', { class: 'quorum-mark', title: `quorum ${pct(quorumBps)}` });
    mark.style.left = `${share((weight * BigInt(quorumBps)) / 10000n)}%`;
    bar.appendChild(mark);
  }
  return h('div', { class: 'tally' }, bar, h('span', { class: 'tally-text' }, `yes ${yes} · no ${no} · abstain ${abstain}`));
}

// #/dao: open a DAO by id (there is no list of DAOs to browse).
async function daoOpenPage(page) {
  const input = h('input', { id: 'dao-open-input', type: 'text', size: 46, placeholder: 'pel:dao:…', 'aria-label': 'DAO id' });
  const out = h('div');
  const form = h('form', { id: 'dao-open', class: 'inline-form', autocomplete: 'off' }, input, h('button', { type: 'submit' }, 'Open'));
  form.addEventListener('submit', (ev) => {
    ev.preventDefault();
    const t = searchTarget(input.value);
    if (t && t.startsWith('#/dao/')) { location.hash = t; return; }
    clear(out).appendChild(h('div', { class: 'error', id: 'dao-open-error' }, 'Not a DAO id: pel:dao: and 32 hex digits.'));
  });
  page.append(h('h1', null, 'Research-funding DAOs'),
    h('p', null, 'A DAO holds a treasury and votes on proposals: milestone grants with reviewers, treasury transfers, ',
      'parameter and member changes. Open one by its id (printed by ', h('code', null, 'pel dao create'),
      ', and linked from the dao events in receipts).'),
    form, out);
  input.focus();
}

async function daoPage(page, id) {
  const d = await rpc('dao', { dao: id });
  page.append(
    h('h1', { id: 'dao-name' }, d.name),
    h('p', null, h('span', { class: 'pill' }, `${d.mode} voting`), ' ', h('span', { class: 'mono' }, d.id)),
    kv([['mode', d.mode === 'member' ? 'member: one vote each' : d.mode === 'token' ? 'token: weight is the stake deposited'
          : d.mode === 'shares' ? 'shares: weight is the shares held in the share object' : d.mode],
        ['share object', d.share_object ? link.object(d.share_object) : null],
        ['voting period', `${d.period} blocks`],
        ['quorum', `${pct(d.quorum_bps)} of the total weight must vote`],
        ['threshold', `${pct(d.threshold_bps)} of yes + no must be yes`],
        ['members', h('div', { id: 'dao-members' }, d.members.length ? d.members.map(m => h('div', null, link.account(m))) : 'none')],
        ['treasury', link.account(d.treasury)],
        ['treasury balance', h('span', { id: 'dao-treasury-balance' }, d.treasury_balance)],
        ['total weight', h('span', { id: 'dao-total-weight' }, d.total_weight)],
        ['created', h('span', null, 'block ', link.block(d.height), ' by ', link.account(d.creator))]]),
    h('h2', null, `Proposals (${d.proposals}), newest first`));
  const list = h('div', { id: 'dao-proposals' });
  page.appendChild(list);
  // Newest first: each page is the 20 proposals below the lowest shown
  // (dao_proposals pages ascend; `next` here is the lowest number shown).
  await pager(list, async (below) => {
    const hi = below === null ? d.proposals : below, lo = Math.max(0, hi - 20);
    if (hi <= 0) return { proposals: [], next: null };
    const r = await rpc('dao_proposals', { dao: d.id, after: lo, limit: hi - lo });
    return { proposals: r.proposals.slice().reverse(), next: lo > 0 ? lo : null };
  }, r => r.proposals, ['#', 'kind', 'status', 'description', 'tally', 'proposed', 'voting until'],
  p => [link.proposal(d.id, p.number), p.kind, statusBadge(p.status), p.description || '-',
    tallyBar(p.tally, d.total_weight), link.block(p.height), `block ${p.deadline}`]);
}

async function proposalPage(page, id, live, n) {
  const [p, d] = await Promise.all([rpc('dao_proposal', { dao: id, proposal: Number(n) }), rpc('dao', { dao: id })]);
  const open = p.status === 'open';
  page.append(
    h('h1', null, `Proposal #${p.number} `, statusBadge(p.status, 'proposal-status')),
    h('p', null, h('span', { class: 'pill' }, p.kind), ' in ', link.dao(p.dao, d.name), ' ', h('span', { class: 'mono' }, p.dao)),
    h('p', { class: 'description', id: 'proposal-description' }, p.description || '(no description)'),
    kv([['status', statusText(p)], ['proposer', link.account(p.proposer)], ['proposed', h('span', null, 'block ', link.block(p.height))],
        ['voting until', h('span', { id: 'proposal-deadline' }, p.head >= p.deadline ? link.block(p.deadline) : `block ${p.deadline}`,
          open ? ` (${p.deadline - p.head} block${p.deadline - p.head === 1 ? '' : 's'} left; head ${p.head})` : '')],
        ['executed', p.executed ? link.block(p.executed) : null]]),
    h('h2', null, 'Tally'), tallyView(p),
    h('h2', null, `Action: ${p.kind}`), actionView(p));
  page.append(h('h2', null, 'Look up a vote'), voteLookup(p));
  void live;
}

function statusText(p) {
  if (p.status === 'executed') return h('span', null, 'executed at block ', link.block(p.executed));
  if (p.status === 'open') return `open: votes are counted until block ${p.deadline}`;
  if (p.status === 'passed') return `passed: anyone may execute it (from block ${p.deadline + 1})`;
  if (p.status === 'rejected') return 'rejected: the final tally did not pass';
  return p.status;
}

// The tally against the quorum and threshold the proposal recorded when it
// was made (a later params change does not apply to it); `passes` is the
// node's own verdict.
function tallyView(p) {
  const t = p.tally, total = big(p.total_weight);
  const yes = big(t.yes), no = big(t.no), voted = yes + no + big(t.abstain);
  const q = BigInt(p.required_quorum_bps), thr = BigInt(p.required_threshold_bps);
  const needed = (q * total + 9999n) / 10000n;
  const quorumMet = voted * 10000n >= q * total;
  const thresholdMet = yes > 0n && yes * 10000n >= thr * (yes + no);
  const yesShare = yes + no > 0n ? pct(Number((yes * 10000n) / (yes + no))) : '-';
  const met = (ok) => h('span', { class: ok ? 'ok' : 'bad' }, ok ? 'met' : 'not met');
  return h('div', { id: 'proposal-tally' }, kv([
    ['votes', tallyBar(t, p.total_weight, p.required_quorum_bps)],
    ['total weight', `${p.total_weight} (when proposed)`],
    ['quorum', h('span', null, `${pct(p.required_quorum_bps)}: ${voted} voted of ${needed} needed, `, met(quorumMet))],
    ['threshold', h('span', null, `${pct(p.required_threshold_bps)} of yes + no: yes is ${yesShare}, `, met(thresholdMet))],
    ['outcome', h('strong', { id: 'proposal-passes', class: p.passes ? 'ok' : 'bad' },
      p.passes ? (p.status === 'open' ? 'passes so far' : 'passes') : (p.status === 'open' ? 'does not pass so far' : 'does not pass'))]]));
}

function actionView(p) {
  switch (p.kind) {
    case 'grant': return grantView(p);
    case 'transfer': return kv([['to', link.account(p.to)], ['amount', p.amount]]);
    case 'params': return kv([['voting period', `${p.period} blocks`], ['quorum', pct(p.quorum_bps)], ['threshold', pct(p.threshold_bps)]]);
    case 'add': return kv([['add member', link.account(p.address)]]);
    case 'remove': return kv([['remove member', link.account(p.address)]]);
    case 'cancel': return kv([['cancels grant', link.proposal(p.dao, p.grant)]]);
    case 'release': return kv([['grant', link.proposal(p.dao, p.grant)], ['milestone', p.milestone],
                               ['deliverable', p.deliverable ? link.object(p.deliverable) : '-']]);
    default: return h('p', null, 'An action this explorer does not know.');
  }
}

function grantView(p) {
  const state = p.cancelled ? h('span', { class: 'bad' }, 'cancelled (unreleased escrow back to the treasury)')
    : p.funded ? h('span', { class: 'ok' }, 'funded at block ', link.block(p.funded))
    : 'not funded (the escrow is filled when the proposal is executed)';
  return h('div', null, kv([
    ['recipient', link.account(p.recipient)],
    ['reviewers', p.reviewers.length ? p.reviewers.map(r => h('div', null, link.account(r))) : 'none'],
    ['escrow', link.account(p.escrow)], ['escrow balance', h('span', { id: 'grant-escrow-balance' }, p.escrow_balance)],
    ['state', h('span', { id: 'grant-state' }, state)]]),
  h('h2', null, 'Milestones'),
  table(['#', 'amount', 'deliverable', 'released', 'deliverable object'], p.milestones.map((m, i) => [
    i, m.amount, m.deliverable,
    h('span', { class: m.released ? 'ok' : null, 'data-released': String(!!m.released) }, m.released ? 'released' : 'not released'),
    m.deliverable_object ? link.object(m.deliverable_object) : '-']), { id: 'milestones' }));
}

// dao_proposal with a voter: how an address voted, and with what weight.
function voteLookup(p) {
  const input = h('input', { id: 'vote-lookup-input', type: 'text', size: 46, placeholder: 'pel1… address', 'aria-label': 'voter address' });
  const out = h('div', { id: 'vote-lookup' });
  const form = h('form', { class: 'inline-form', autocomplete: 'off' }, input, h('button', { type: 'submit' }, 'Look up'));
  form.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    try {
      const r = await rpc('dao_proposal', { dao: p.dao, proposal: p.number, voter: input.value.trim() });
      const v = r.vote;
      clear(out).appendChild(h('p', null, link.account(input.value.trim()),
        v ? ` voted ${v.choice} with weight ${v.weight}.` : ' did not vote on this proposal.'));
    } catch (e) { clear(out).appendChild(errorBox(e)); }
  });
  return h('div', null, form, out);
}

window.addEventListener('hashchange', route);
route();
