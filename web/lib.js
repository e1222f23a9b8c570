// lib.js - the explorer's helpers: the JSON-RPC call, DOM building that
// never parses HTML (every string goes in as a text node or an attribute,
// so data from the ledger cannot inject markup), and small formatters.

export class RpcError extends Error {
  constructor(code, message, data) {
    super(message);
    this.code = code;
    this.data = data;
  }
}

let nextId = 1;

// rpc(method, params) -> result; throws RpcError (JSON-RPC error) or Error.
export async function rpc(method, params) {
  const res = await fetch('rpc', {
    method: 'POST',
    headers: { 'Content-Type': 'application/json' },
    body: JSON.stringify({ jsonrpc: '2.0', id: nextId++, method, params: params || {} }),
  });
  if (!res.ok) throw new Error(`HTTP ${res.status} from the node`);
  const reply = await res.json();
  if (reply.error) throw new RpcError(reply.error.code, reply.error.message, reply.error.data);
  return reply.result;
}

export const NOT_FOUND = -32003;

// h('a', {href: '#/x', class: 'c'}, 'text', child, [more]) -> Element.
// Attributes go through setAttribute; children that are not Nodes become
// text nodes. on* attributes are refused: handlers are added with `on`.
export function h(tag, attrs, ...children) {
  const svg = ['svg', 'g', 'rect', 'line', 'text', 'path', 'title', 'defs', 'marker'].includes(tag);
  const el = svg ? document.createElementNS('http://www.w3.org/2000/svg', tag) : document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (v === undefined || v === null || v === false) continue;
    if (k === 'on') { for (const [ev, fn] of Object.entries(v)) el.addEventListener(ev, fn); continue; }
    if (/^on/i.test(k)) throw new Error('use {on: {...}} for handlers');
    if (k === 'href' && !/^(#|[a-z0-9._/-]*$)/i.test(String(v))) throw new Error('unsafe href');
    el.setAttribute(k, String(v));
  }
  append(el, children);
  return el;
}

function append(el, children) {
  for (const c of children) {
    if (c === undefined || c === null || c === false) continue;
    if (Array.isArray(c)) append(el, c);
    else el.appendChild(c instanceof Node ? c : document.createTextNode(String(c)));
  }
}

export function clear(el) { while (el.firstChild) el.removeChild(el.firstChild); return el; }

// A definition list from [label, value] pairs (null values skipped).
export function kv(pairs) {
  return h('dl', { class: 'kv' }, pairs.filter(p => p && p[1] !== undefined && p[1] !== null)
    .map(([k, v]) => [h('dt', null, k), h('dd', null, v)]));
}

export function table(headers, rows, attrs) {
  return h('table', attrs, h('thead', null, h('tr', null, headers.map(x => h('th', null, x)))),
    h('tbody', null, rows.length ? rows.map(r => h('tr', null, r.map(c => h('td', null, c))))
      : h('tr', null, h('td', { colspan: headers.length, class: 'empty' }, 'none'))));
}

// Links into the app; ids go through encodeURIComponent.
const enc = encodeURIComponent;
export const link = {
  block: (hgt) => h('a', { href: `#/block/${enc(hgt)}` }, `#${hgt}`),
  tx: (id) => h('a', { href: `#/tx/${enc(id)}`, class: 'mono' }, short(id)),
  account: (a) => h('a', { href: `#/account/${enc(a)}`, class: 'mono' }, a),
  object: (id, text) => h('a', { href: `#/object/${enc(id)}`, class: 'mono' }, text || id),
  prereg: (id) => h('a', { href: `#/prereg/${enc(id)}`, class: 'mono' }, id),
  review: (id) => h('a', { href: `#/review/${enc(id)}`, class: 'mono' }, id),
  graph: (id) => h('a', { href: `#/graph/${enc(id)}` }, 'provenance graph'),
  dao: (id, text) => h('a', { href: `#/dao/${enc(id)}`, class: text ? null : 'mono' }, text || id),
  proposal: (id, n, text) => h('a', { href: `#/dao/${enc(id)}/${enc(n)}` }, text || `#${n}`),
};

export function short(hex) { return hex && hex.length > 20 ? `${hex.slice(0, 10)}…${hex.slice(-8)}` : hex; }

export function time(ms) {
  const n = Number(ms);
  return n ? new Date(n).toISOString().replace('T', ' ').replace(/\.\d+Z$/, ' UTC') : '-';
}

// Basis points as a percentage: 5000 -> "50%", 3333 -> "33.33%".
export function pct(bps) {
  const n = Number(bps);
  return `${n % 100 ? (n / 100).toFixed(2) : n / 100}%`;
}

// A u64 decimal string (or number) as a BigInt; 0n for anything else.
export function big(x) {
  try { return BigInt(x ?? 0); } catch { return 0n; }
}

export function errorBox(e) {
  const code = e instanceof RpcError ? ` (${e.code})` : '';
  return h('div', { class: 'error' }, `${e.message}${code}`);
}

export function hexOf(buf) {
  return Array.from(new Uint8Array(buf), b => b.toString(16).padStart(2, '0')).join('');
}
