// EventSnn serve dashboard: one panel per stream, fed by /events?frames=1 (Server-Sent Events)
// and /api/streams (counters, polled once a second). No external scripts: works offline.
"use strict";
const panels = new Map();
const main = document.getElementById("streams");
const template = document.getElementById("panel");
const statusLine = document.getElementById("status");

function panelFor(id) {
  let p = panels.get(id);
  if (p) return p;
  const node = template.content.firstElementChild.cloneNode(true);
  node.dataset.stream = id;
  node.querySelector(".name").textContent = id;
  main.appendChild(node);
  document.getElementById("empty")?.remove();
  p = { node, history: [], lastEvents: null, lastTime: null };
  panels.set(id, p);
  return p;
}

function percent(x) { return x == null ? "–" : (100 * x).toFixed(1) + " %"; }

function onDecision(d) {
  const p = panelFor(d.stream);
  const el = p.node;
  el.dataset.label = d.label;
  const box = el.querySelector(".decision");
  box.querySelector(".label").textContent = d.label;
  box.querySelector(".confidence").textContent = percent(d.confidence);
  el.querySelector(".latency").textContent = d.latency_ms.toFixed(2) + " ms";
  box.classList.remove("right", "wrong");
  if (d.truth != null) {
    const right = d.truth === d.label;
    box.classList.add(right ? "right" : "wrong");
    el.querySelector(".truth").textContent = "truth: " + d.truth;
    p.history.push(right ? 1 : 0);
    drawChart(p);
  }
}

// rolling accuracy over the last 50 labelled decisions, one point per decision
function drawChart(p) {
  const c = p.node.querySelector(".chart");
  const g = c.getContext("2d");
  const w = c.width, h = c.height, n = 50, pts = [];
  for (let i = 0; i < p.history.length; i++) {
    const from = Math.max(0, i - n + 1);
    let s = 0;
    for (let k = from; k <= i; k++) s += p.history[k];
    pts.push(s / (i - from + 1));
  }
  const shown = pts.slice(-300);
  g.clearRect(0, 0, w, h);
  g.strokeStyle = "#8886"; g.lineWidth = 1;
  for (const y of [0, 0.5, 1]) { g.beginPath(); g.moveTo(0, h - 4 - y * (h - 8)); g.lineTo(w, h - 4 - y * (h - 8)); g.stroke(); }
  g.fillStyle = "#8888"; g.font = "10px sans-serif"; g.fillText("100 %", 2, 10); g.fillText("0 %", 2, h - 6);
  if (shown.length < 2) return;
  g.strokeStyle = "#2ca02c"; g.lineWidth = 2; g.beginPath();
  shown.forEach((a, i) => { const x = i * (w - 1) / (shown.length - 1), y = h - 4 - a * (h - 8); i ? g.lineTo(x, y) : g.moveTo(x, y); });
  g.stroke();
}

function decode(b64) { const s = atob(b64); const a = new Uint8Array(s.length); for (let i = 0; i < s.length; i++) a[i] = s.charCodeAt(i); return a; }

// event frame: ON counts in red, OFF in blue, cells of `scale` sensor pixels, origin top-left (sensor coordinates)
function onFrame(f) {
  const p = panelFor(f.stream);
  const c = p.node.querySelector(".frame");
  if (c.width !== f.width || c.height !== f.height) { c.width = f.width; c.height = f.height; }
  c.style.aspectRatio = f.sensor_width + " / " + f.sensor_height;
  const on = decode(f.on), off = decode(f.off);
  let peak = 1;
  for (let i = 0; i < on.length; i++) peak = Math.max(peak, on[i], off[i]);
  const g = c.getContext("2d"), img = g.createImageData(f.width, f.height);
  for (let i = 0; i < on.length; i++) {
    const r = Math.min(255, Math.round(255 * Math.sqrt(on[i] / peak)));
    const b = Math.min(255, Math.round(255 * Math.sqrt(off[i] / peak)));
    img.data[4 * i] = r; img.data[4 * i + 1] = Math.round(0.25 * Math.min(r, b)); img.data[4 * i + 2] = b; img.data[4 * i + 3] = 255;
  }
  g.putImageData(img, 0, 0);
  p.node.querySelector(".sensor").textContent = f.sensor_width + " × " + f.sensor_height + (f.scale > 1 ? " (1:" + f.scale + ")" : "");
}

async function pollStreams() {
  try {
    const r = await fetch("api/streams", { cache: "no-store" });
    const now = performance.now();
    for (const s of await r.json()) {
      const p = panelFor(s.id);
      p.node.classList.toggle("ended", !s.active);
      p.node.querySelector(".decisions").textContent = s.decisions;
      p.node.querySelector(".accuracy").textContent = s.accuracy == null ? "–" : percent(s.accuracy) + " of " + s.labelled;
      if (p.lastEvents != null && now > p.lastTime) {
        const rate = (s.events - p.lastEvents) * 1000 / (now - p.lastTime);
        p.node.querySelector(".rate").textContent = s.active ? Math.round(rate).toLocaleString("en") : "ended";
      }
      p.lastEvents = s.events; p.lastTime = now;
    }
  } catch (e) { /* the server may be restarting: keep polling */ }
}

function connect() {
  const es = new EventSource("events?frames=1");
  es.onopen = () => { statusLine.textContent = "connected"; };
  es.onerror = () => { statusLine.textContent = "reconnecting…"; };
  es.onmessage = (m) => onDecision(JSON.parse(m.data));
  es.addEventListener("frame", (m) => onFrame(JSON.parse(m.data)));
}

connect();
pollStreams();
setInterval(pollStreams, 1000);
