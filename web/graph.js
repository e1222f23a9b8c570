// graph.js - the interactive provenance graph: an SVG of research objects
// (nodes) and their links (edges, "from" links to "to": derived-from,
// cites, reviews …). It starts at one object with its direct parents and
// children; clicking a node fetches that node's parents (object_upstream)
// and children (object_downstream), one level each, and redraws.
// Layout: a column per generation (parents left, children right), nodes
// stacked in the order they were found.

import { h, rpc, clear, short } from './lib.js';

const W = 190, H = 40, GX = 250, GY = 60;

export class ProvenanceGraph {
  constructor(container, startId, onOpen) {
    this.container = container;
    this.onOpen = onOpen;              // called with an object id on double click
    this.nodes = new Map();            // id -> {id, level, expanded, title}
    this.edges = new Map();            // "from|relation|to" -> edge
    this.add(startId, 0).start = true;
  }

  add(id, level) {
    let n = this.nodes.get(id);
    if (!n) {
      n = { id, level, expanded: false, title: '' };
      this.nodes.set(id, n);
      rpc('object', { id }).then(o => { n.title = o.title; n.kind = o.kind; this.draw(); }, () => {});
    }
    return n;
  }

  // Fetch one level up and down from id; returns the number of new nodes.
  async expand(id) {
    const n = this.nodes.get(id);
    const before = this.nodes.size;
    const [up, down] = await Promise.all([
      rpc('object_upstream', { id, depth: 1 }),
      rpc('object_downstream', { id, depth: 1 }),
    ]);
    for (const e of up.edges) { this.add(e.to, n.level - 1); this.edge(e); }
    for (const e of down.edges) { this.add(e.from, n.level + 1); this.edge(e); }
    n.expanded = true;
    this.draw();
    return this.nodes.size - before;
  }

  edge(e) { this.edges.set(`${e.from}|${e.relation}|${e.to}`, e); }

  layout() {
    const cols = new Map();
    for (const n of this.nodes.values()) {
      if (!cols.has(n.level)) cols.set(n.level, []);
      cols.get(n.level).push(n);
    }
    const levels = [...cols.keys()].sort((a, b) => a - b);
    const rows = Math.max(...[...cols.values()].map(c => c.length));
    levels.forEach((lv, ci) => cols.get(lv).forEach((n, ri) => {
      n.x = 20 + ci * GX;
      n.y = 20 + ri * GY + (rows - cols.get(lv).length) * GY / 2;
    }));
    return { width: 40 + levels.length * GX, height: 40 + rows * GY };
  }

  draw() {
    const { width, height } = this.layout();
    const svg = h('svg', { id: 'graph-svg', viewBox: `0 0 ${Math.max(width, 600)} ${Math.max(height, 300)}`,
                           role: 'img', 'aria-label': 'provenance graph' },
      h('defs', null, h('marker', { id: 'arrow', viewBox: '0 0 10 10', refX: 10, refY: 5,
                                    markerWidth: 7, markerHeight: 7, orient: 'auto-start-reverse' },
        h('path', { d: 'M 0 0 L 10 5 L 0 10 z', fill: '#8a94a6' }))));
    for (const e of this.edges.values()) {
      const a = this.nodes.get(e.from), b = this.nodes.get(e.to);
      if (!a || !b) continue;
      // arrows point from the citing/derived object to what it builds on
      const [x1, x2] = a.x > b.x ? [a.x, b.x + W] : a.x < b.x ? [a.x + W, b.x] : [a.x + W / 2, b.x + W / 2];
      const y1 = a.y + H / 2, y2 = b.y + H / 2;
      svg.appendChild(h('g', { class: 'edge', 'data-relation': e.relation },
        h('line', { x1, y1, x2, y2, 'marker-end': 'url(#arrow)' }),
        h('text', { x: (x1 + x2) / 2 - 30, y: (y1 + y2) / 2 - 4 }, e.relation)));
    }
    for (const n of this.nodes.values()) {
      const cls = ['node', n.start && 'start', n.expanded && 'expanded'].filter(Boolean).join(' ');
      const g = h('g', { class: cls, 'data-id': n.id, tabindex: 0,
                         transform: `translate(${n.x},${n.y})`,
                         on: { click: () => this.clicked(n.id),
                               dblclick: () => this.onOpen && this.onOpen(n.id),
                               keydown: (ev) => { if (ev.key === 'Enter') this.clicked(n.id); } } },
        h('title', null, `${n.id}${n.title ? ' - ' + n.title : ''}\nclick: expand parents and children; double click: open`),
        h('rect', { width: W, height: H, rx: 6 }),
        h('text', { x: 8, y: 16 }, (n.title || '…').slice(0, 28)),
        h('text', { x: 8, y: 32, class: 'mono' }, short(n.id.replace('pel:obj:', ''))));
      svg.appendChild(g);
    }
    clear(this.container).appendChild(svg);
  }

  clicked(id) {
    const n = this.nodes.get(id);
    if (n && !n.expanded) this.expand(id).catch(e => { this.container.dataset.error = e.message; });
  }
}
