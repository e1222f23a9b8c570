// app.js - the PEL explorer: hash routing (#/block/12, #/object/pel:obj:…)
// and one render function per page, all reading the node's JSON-RPC API
// (docs/API.md). Pages build DOM with lib.js's h(), never from HTML text.

import { h, rpc, clear, kv, table, link, short, time, errorBox, hexOf, RpcError, NOT_FOUND } from './lib.js';
import { ProvenanceGraph } from './graph.js';

const view = document.getElementById('view');
let timer = null;          // the dashboard's poll; stopped on every navigation
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
  [/^\/dao$/, daoPlaceholder],
];

async function route() {
  if (timer) { clearInterval(timer); timer = null; }
  const gen = ++generation;
  const path = decodeURIComponent(location.hash.replace(/^#/, '')) || '/';
  const page = h('div', { class: 'page' });
  clear(view).appendChild(page);
  for (const [re, fn] of routes) {
    const m = path.match(re);
    if (!m) continue;
    try { await fn(page, m[1], () => gen === generation); } catch (e) { page.appendChild(errorBox(e)); }
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
  return null;
}

document.getElementById('search').addEventListener('submit', (ev) => {
  ev.preventDefault();
  const input = document.getElementById('search-input');
  const t = searchTarget(input.value);
  if (t) { location.hash = t; return; }
  const page = clear(view).appendChild(h('div', { class: 'page' }));
  page.appendChild(h('div', { class: 'error', id: 'search-error' },
    'Not understood: give a block height, a 64-hex transaction id, a pel1… address, a pel:obj:… or pel:prereg:… id.'));
});

// ---- dashboard ----

async function dashboard(page, _, live) {
  const cards = h('div', { class: 'cards' });
  const blocks = h('div', { id: 'latest-blocks' });
  page.append(h('h1', null, 'Dashboard'), cards, h('h2', null, 'Latest blocks'), blocks);
  let shown = -1;
  const tick = async () => {
    let info;
    try { info = await rpc('node_info'); } catch (e) { clear(cards).appendChild(errorBox(e)); return; }
    if (!live()) return;
    const card = (label, value, id) => h('div', { class: 'card' }, h('div', { class: 'label' }, label),
                                          h('div', { class: 'value', id }, value));
    clear(cards).append(
      card('height', info.height, 'height'),
      card('tps (10 s)', info.stats.tps_recent.toFixed(1), 'tps'),
      card('mempool', info.mempool.txs, 'mempool'),
      card('transactions', info.history_size, 'txcount'),
      card('last exec / commit', `${info.stats.last_exec_ms.toFixed(1)} / ${info.stats.last_commit_ms.toFixed(1)} ms`),
      card('chain', info.chain_id),
      card('engine', `${info.engine} × ${info.threads}`));
    if (info.failed) cards.appendChild(h('div', { class: 'banner' }, `node stopped: ${info.failed}`));
    if (info.height !== shown) {
      shown = info.height;
      const hs = [];
      for (let x = info.height; x >= 0 && hs.length < 10; x--) hs.push(x);
      const bs = await Promise.all(hs.map(x => rpc('block', { height: x }).catch(() => null)));
      if (!live()) return;
      clear(blocks).appendChild(table(['height', 'time', 'txs', 'hash'],
        bs.filter(Boolean).map(b => [link.block(b.height), time(b.timestamp_ms), b.tx_count, h('span', { class: 'mono' }, short(b.hash))])));
    }
  };
  await tick();
  timer = setInterval(() => { if (live()) tick(); }, 1000);
}

// ---- blocks and transactions ----

function eventView(ev) {
  const parts = [h('span', { class: 'pill' }, ev.kind)];
  for (const [k, v] of Object.entries(ev)) {
    if (k === 'kind') continue;
    let val = typeof v === 'object' ? JSON.stringify(v) : String(v);
    let node = val;
    if (k === 'id' && /^pel:obj:/.test(val)) node = link.object(val);
    else if (k === 'id' && /^pel:prereg:/.test(val)) node = link.prereg(val);
    else if (/^pel1/.test(val)) node = link.account(val);
    if (k === 'outcome_switched' && v === true) node = h('span', { class: 'flag' }, 'OUTCOME-SWITCHED');
    parts.push(' ', `${k}=`, node);
  }
  return h('div', null, parts);
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
  const b = await rpc('block', { height, receipts: true });
  page.append(
    h('h1', null, `Block ${b.height}`),
    h('p', null, b.height > 0 ? h('a', { href: `#/block/${b.height - 1}` }, '← previous') : null, ' ',
      h('a', { href: `#/block/${b.height + 1}` }, 'next →')),
    kv([['hash', h('span', { class: 'mono' }, b.hash)], ['previous', h('span', { class: 'mono' }, b.prev_hash)],
        ['time', time(b.timestamp_ms)], ['transactions', b.tx_count],
        ['state root', h('span', { class: 'mono' }, b.state_root)],
        ['history', `${b.history_size} · ${b.history_root}`], ['proposer', h('span', { class: 'mono' }, b.proposer)]]),
    h('h2', null, `Transactions (${b.txs.length})`),
    table(['#', 'id', 'from', 'nonce', 'receipt'],
      b.txs.map((t, i) => [i, link.tx(t.id), link.account(t.from), t.nonce, receiptView(t.receipt)]),
      { id: 'block-txs' }));
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

// ---- DAO: placeholder ----

async function daoPlaceholder(page) {
  // PLACEHOLDER: the DAO RPC methods are being added in a separate change;
  // this page is wired into the navigation only.
  page.append(h('h1', null, 'DAO'), h('p', { class: 'note', id: 'dao-placeholder' },
    'The DAO pages (members, proposals, votes, treasury) come with the node\'s DAO methods.'));
}

window.addEventListener('hashchange', route);
route();
