// ppcti pages: progress by server-sent events, table filters, the knowledge-graph view.
// No inline scripts anywhere (the policy forbids them); every value is inserted as text, never as HTML.
"use strict";

function followJob(el) {
  const source = new EventSource(el.dataset.src);
  source.onmessage = (event) => {
    const job = JSON.parse(event.data);
    const state = document.getElementById("job-state");
    state.textContent = job.state;
    state.className = "state state-" + job.state;
    document.getElementById("job-stage").textContent = job.stage || "";
    document.getElementById("job-progress").value = job.progress;
    if (job.state === "done" || job.state === "failed") {
      source.close();
      window.location.reload();
    }
  };
  source.onerror = () => { source.close(); setTimeout(() => window.location.reload(), 3000); };
}

function filterTable(input) {
  const table = document.getElementById(input.dataset.filterTable);
  if (!table) return;
  input.addEventListener("input", () => {
    const needle = input.value.toLowerCase();
    for (const row of table.tBodies[0].rows) {
      row.hidden = needle !== "" && !row.textContent.toLowerCase().includes(needle);
    }
  });
}

const SVG = "http://www.w3.org/2000/svg";

function svg(name, attrs) {
  const el = document.createElementNS(SVG, name);
  for (const [k, v] of Object.entries(attrs || {})) el.setAttribute(k, v);
  return el;
}

async function drawGraph(box) {
  const response = await fetch(box.dataset.src, { credentials: "same-origin" });
  if (!response.ok) { box.textContent = "The graph could not be loaded."; return; }
  const graph = await response.json();
  const width = 1000, height = 520;
  const root = svg("svg", { viewBox: `0 0 ${width} ${height}`, role: "img", "aria-label": `${graph.nodes.length} nodes, ${graph.edges.length} links` });
  const index = new Map(graph.nodes.map((n, i) => [n.id, i]));
  // a few rounds of a simple force layout, started on a circle grouped by type
  const types = [...new Set(graph.nodes.map((n) => n.type))];
  const pos = graph.nodes.map((n, i) => {
    const a = (2 * Math.PI * i) / Math.max(1, graph.nodes.length) + types.indexOf(n.type);
    return { x: width / 2 + 220 * Math.cos(a), y: height / 2 + 200 * Math.sin(a) };
  });
  const links = graph.edges.filter((e) => index.has(e.source) && index.has(e.target))
    .map((e) => ({ s: index.get(e.source), t: index.get(e.target), label: e.label }));
  // Fruchterman-Reingold: repulsion k²/d between all nodes, attraction d²/k along links, cooling steps
  const k = 0.75 * Math.sqrt((width * height) / Math.max(1, pos.length));
  const rounds = 150;
  for (let round = 0; round < rounds; round++) {
    const temperature = (width / 10) * (1 - round / rounds) + 1;
    const shift = pos.map(() => ({ x: 0, y: 0 }));
    for (let i = 0; i < pos.length; i++) {
      for (let j = i + 1; j < pos.length; j++) {
        const dx = pos[i].x - pos[j].x, dy = pos[i].y - pos[j].y;
        const d = Math.max(Math.hypot(dx, dy), 0.01), f = (k * k) / d / d;
        shift[i].x += dx * f; shift[i].y += dy * f; shift[j].x -= dx * f; shift[j].y -= dy * f;
      }
    }
    for (const l of links) {
      const dx = pos[l.t].x - pos[l.s].x, dy = pos[l.t].y - pos[l.s].y;
      const d = Math.max(Math.hypot(dx, dy), 0.01), f = d / k;
      shift[l.s].x += dx * f; shift[l.s].y += dy * f; shift[l.t].x -= dx * f; shift[l.t].y -= dy * f;
    }
    pos.forEach((p, i) => {
      const d = Math.max(Math.hypot(shift[i].x, shift[i].y), 0.01), step = Math.min(d, temperature);
      p.x = Math.min(width - 20, Math.max(20, p.x + (shift[i].x / d) * step));
      p.y = Math.min(height - 20, Math.max(20, p.y + (shift[i].y / d) * step));
    });
  }
  const edgeEls = links.map((l) => {
    const line = svg("line", { class: "edge", x1: pos[l.s].x, y1: pos[l.s].y, x2: pos[l.t].x, y2: pos[l.t].y });
    const title = svg("title"); title.textContent = l.label; line.appendChild(title);
    root.appendChild(line);
    return line;
  });
  const status = document.getElementById("kg-selection");
  const nodeEls = graph.nodes.map((n, i) => {
    const g = svg("g", { class: "node", tabindex: "0", role: "button", "aria-label": `${n.label} (${n.type || "resource"})` });
    g.appendChild(svg("circle", { cx: pos[i].x, cy: pos[i].y, r: 6 }));
    const text = svg("text", { x: pos[i].x + 8, y: pos[i].y + 3 }); text.textContent = n.label;
    g.appendChild(text);
    const select = () => {
      const near = new Set([i]);
      links.forEach((l, k) => {
        const on = l.s === i || l.t === i;
        edgeEls[k].classList.toggle("hot", on);
        if (on) { near.add(l.s); near.add(l.t); }
      });
      nodeEls.forEach((el, k) => { el.classList.toggle("dim", !near.has(k)); el.classList.toggle("hot", k === i); });
      if (status) status.textContent = `${n.label}: ${near.size - 1} linked resources`;
    };
    g.addEventListener("click", select);
    g.addEventListener("keydown", (event) => { if (event.key === "Enter" || event.key === " ") { event.preventDefault(); select(); } });
    root.appendChild(g);
    return g;
  });
  box.replaceChildren(root);
  if (graph.cut && status) status.textContent = "Large graph: the first nodes are shown; download the Turtle file for all of it.";
}

document.addEventListener("DOMContentLoaded", () => {
  const events = document.getElementById("job-events");
  if (events) followJob(events);
  document.querySelectorAll("[data-filter-table]").forEach(filterTable);
  const kg = document.getElementById("kg");
  if (kg) drawGraph(kg);
  const refresh = document.querySelector("[data-refresh]");
  if (refresh) setTimeout(() => window.location.reload(), 1000 * Number(refresh.dataset.refresh));
});
