// The dashboard: one page, routed by the URL's #fragment, drawn from the read-only JSON API of
// `lamina serve` (core/src/serve/dashboard.hpp) and refreshed every two seconds. Every value
// from a run folder reaches the page as text (textContent, never markup), and the server's
// Content-Security-Policy runs no script but this one and dygraphs.
"use strict";

const REFRESH_MS = 2000;
const main = document.getElementById("main");
// The charts by name, for the browser test (tests/python/serve_browser_check.py) to read.
const state = { charts: {}, timer: null, page: 0 };
window.lamina = state;
const chartDivs = {};

function el(tag, attrs, ...children) {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (k === "class") e.className = v;
    else e.setAttribute(k, v);
  }
  for (const c of children) if (c !== null && c !== undefined) e.append(c instanceof Node ? c : String(c));
  return e;
}

async function api(path) {
  const r = await fetch(path, { cache: "no-store" });
  const body = await r.json();
  if (!r.ok) throw new Error(body.error || r.statusText);
  return body;
}

function fixed(v, digits) { return typeof v === "number" ? v.toFixed(digits) : ""; }
// A number as a person reads it: its magnitude kept (a log-uniform lambda of 8.2e-8 is not
// 0.000000), at most six significant digits, integers as they are.
function num(v) {
  if (typeof v !== "number") return v === null || v === undefined ? "" : String(v);
  if (!Number.isFinite(v) || Number.isInteger(v)) return String(v);
  const a = Math.abs(v);
  if (a < 1e-3 || a >= 1e6) return v.toExponential(5).replace(/\.?0+e/, "e").replace("e+", "e");
  return String(Number(v.toPrecision(6)));
}
// Ticks of an epoch axis at whole epochs, about one per 50 pixels.
function epochTicks(min, max, pixels) {
  const step = Math.max(1, Math.ceil((max - min) / Math.max(1, pixels / 50)));
  const ticks = [];
  for (let v = Math.ceil(min - 1e-9); v <= max + 1e-9; v += step) ticks.push({ v, label: String(v) });
  return ticks;
}
// Ticks of a log axis at the powers of ten only (1e-4, 1e-3, ...), not dygraphs' dense fan of
// 2..9 multiples; a range inside one decade keeps the usual ticks.
function decadeTicks(min, max, pixels, opts, g, vals) {
  const at = (mults) => {
    const ticks = [];
    for (let e = Math.floor(Math.log10(min)); e <= Math.ceil(Math.log10(max)); ++e) {
      for (const m of mults) {
        const v = m * Math.pow(10, e);
        if (v >= min && v <= max) ticks.push({ v, label: mults.length === 1 ? "1e" + e : num(Number(v.toPrecision(3))) });
      }
    }
    return ticks;
  };
  // Less than two decades wide: 1, 2 and 5 times the powers of ten, still not the 2..9 fan.
  const decades = at([1]);
  if (decades.length >= 2) return decades;
  const more = at([1, 2, 5]);
  return more.length >= 2 ? more : Dygraph.numericTicks(min, max, pixels, opts, g, vals);
}
function duration(s) {
  if (typeof s !== "number") return "";
  if (s < 0.05) return "< 0.1 s";
  if (s < 120) return s.toFixed(1) + " s";
  if (s < 7200) return (s / 60).toFixed(1) + " min";
  return (s / 3600).toFixed(1) + " h";
}
function when(t) { return t ? new Date(t * 1000).toLocaleString() : ""; }
function link(kind, id, text) { return el("a", { href: "#/" + kind + "/" + encodeURIComponent(id) }, text); }
function badge(entry) {
  return el("span", { class: "badge " + (entry.live ? "live" : entry.status) }, entry.live ? "live" : entry.status);
}

// dygraphs writes labels, axis titles and what formatters return with innerHTML: everything
// handed to it is escaped first (names come from folders, run.json and journals, which anyone
// who can write a served folder controls).
function escapeHtml(text) {
  return String(text).replace(/[&<>"']/g, (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" })[c]);
}

function escapedOptions(options) {
  const o = Object.assign({}, options);
  if (o.labels) o.labels = o.labels.map(escapeHtml);
  for (const k of ["xlabel", "ylabel", "title"]) if (o[k] !== undefined) o[k] = escapeHtml(o[k]);
  if (o.axes) {
    o.axes = Object.fromEntries(Object.entries(o.axes).map(([axis, a]) => {
      const b = Object.assign({}, a);
      for (const f of ["axisLabelFormatter", "valueFormatter"]) {
        if (typeof b[f] === "function") { const g = b[f]; b[f] = (...args) => escapeHtml(g(...args)); }
      }
      return [axis, b];
    }));
  }
  return o;
}

// Draws or refreshes the chart `key` in `div` (dygraphs wants at least one row).
function chart(key, div, rows, unescaped) {
  const options = escapedOptions(unescaped);
  if (!rows.length) {
    div.replaceChildren(el("p", { class: "muted" }, "no points yet"));
    delete state.charts[key];
    return;
  }
  // Epochs are whole: no tick at epoch 1.5.
  if (options.xlabel === "epoch") {
    options.axes = Object.assign({}, options.axes, {
      x: Object.assign({ ticker: epochTicks }, (options.axes || {}).x) });
  }
  const g = state.charts[key];
  if (g && chartDivs[key] === div && JSON.stringify(g.getLabels()) === JSON.stringify(options.labels)) {
    g.updateOptions({ file: rows });
  } else {
    // The legend in a line of its own under the plot: inside it, it covered the curves and
    // wrapped a series name over two lines.
    const plot = el("div", { class: "plot" });
    const legend = el("div", { class: "legend" });
    div.replaceChildren(plot, legend);
    chartDivs[key] = div;
    state.charts[key] = new Dygraph(plot, rows, Object.assign({ legend: "always", labelsDiv: legend, labelsSeparateLines: false,
      axes: {} }, options));
  }
}

function poll(step) {
  const page = ++state.page;
  // The previous page's charts went with its elements; keeping them would let a reader (or a
  // test) take the last page's chart for this one's until the first poll draws it.
  state.charts = {};
  const run = async () => {
    if (page !== state.page) return;  // the user went elsewhere
    try {
      await step();
      document.getElementById("updated").textContent = "updated " + new Date().toLocaleTimeString();
    } catch (e) {
      document.getElementById("updated").textContent = "cannot reach lamina serve: " + e.message;
    }
    if (page === state.page) state.timer = setTimeout(run, REFRESH_MS);
  };
  run();
}

function table(columns, id) {
  return el("table", id ? { id } : {}, el("thead", {}, el("tr", {}, ...columns.map((c) => el("th", {}, c)))), el("tbody"));
}

// ---- the list of runs and searches ----
function listPage() {
  const selected = new Set();
  const t = table(["", "name", "kind", "status", "epochs / trials", "best validation", "test accuracy", "time", "modified"], "entries");
  const summary = el("p", { class: "muted" });
  const compare = el("button", { disabled: "" }, "Overlay the selected runs");
  compare.addEventListener("click", () => {
    location.hash = "#/compare/" + [...selected].map(encodeURIComponent).join(",");
  });
  main.replaceChildren(el("h1", {}, "Runs and searches"), summary, compare, t);
  poll(async () => {
    const list = await api("/api/list?limit=1000");
    summary.textContent = `${list.total} in ${list.roots.join(", ")}; ${list.live} live` +
      (list.total > list.entries.length ? `; the ${list.entries.length} newest shown` : "");
    const rows = list.entries.map((e) => {
      const box = el("input", { type: "checkbox" });
      box.checked = selected.has(e.id);
      box.disabled = e.kind !== "run";
      box.addEventListener("change", () => {
        box.checked ? selected.add(e.id) : selected.delete(e.id);
        compare.disabled = selected.size < 1;
      });
      return el("tr", { "data-id": e.id },
        el("td", {}, box),
        el("td", {}, link(e.kind, e.id, e.name), e.problem ? el("div", { class: "problem" }, e.problem) : null),
        el("td", {}, e.kind),
        el("td", {}, badge(e)),
        el("td", { class: "num" }, e.planned ? `${e.done} / ${e.planned}` : e.done),
        el("td", { class: "num" }, fixed(e.best_val, 4)),
        el("td", { class: "num" }, fixed(e.test_acc, 4)),
        el("td", e.kind === "search" ? { class: "num", title: "the trials' training time, summed" } : { class: "num" },
          duration(e.seconds)),
        el("td", {}, when(e.modified)));
    });
    t.tBodies[0].replaceChildren(...rows);
  });
}

// ---- one run ----
function metricRows(metrics, names) {
  const cols = metrics.columns.map(String);
  const at = names.map((n) => cols.indexOf(n));
  return metrics.rows.map((r) => at.map((i) => (i >= 0 && typeof r[i] === "number" ? r[i] : null)));
}

// The measures a metrics.csv holds, loss first: each train_X column names one (penalty is not one).
function measures(metrics) {
  return metrics.columns.map(String).filter((c) => c.startsWith("train_")).map((c) => c.slice(6));
}

// One chart per measure, made once and reused: a div per name under `box`.
function chartsFor(box, names, prefix) {
  const have = [...box.children].map((c) => c.dataset.measure);
  if (have.join() !== names.join()) {
    box.replaceChildren(...names.map((n) => el("div", { "data-measure": n }, el("h2", {}, n),
      el("div", { class: "chart", id: prefix + n }))));
  }
  return names.map((n) => [n, box.querySelector(`[data-measure="${n}"] .chart`)]);
}

function runPage(id) {
  const title = el("h1", {}, id);
  const status = el("p");
  const charts = el("div", { class: "charts" });
  const batch = el("div", { class: "chart", id: "chart-batch" });
  const batchBox = el("div", {}, el("h2", {}, "Batch loss (train.log_every)"), batch);
  const yaml = el("pre");
  const plugins = table(["plugin", "version", "file"]);
  const runJson = el("pre");
  main.replaceChildren(title, status, charts, batchBox, el("h2", {}, "model.yaml"), yaml,
    el("h2", {}, "Plugins"), plugins, el("h2", {}, "run.json"), runJson);
  poll(async () => {
    const r = await api("/api/run?id=" + encodeURIComponent(id));
    title.textContent = r.name;
    status.replaceChildren(badge(r), ` ${r.done}${r.planned ? " / " + r.planned : ""} epochs`);
    if (r.problem) status.append(el("span", { class: "problem" }, " " + r.problem));
    // Every metric the run reports (accuracy, r2, a plugin's own...) next to its loss.
    const names = measures(r.metrics);
    const ordered = [...names.filter((n) => n !== "loss"), ...names.filter((n) => n === "loss")];
    for (const [n, div] of chartsFor(charts, ordered, "chart-")) {
      chart("run-" + n, div, metricRows(r.metrics, ["epoch", "train_" + n, "val_" + n, "test_" + n]),
        { labels: ["epoch", "train", "validation", "test"], ylabel: n, xlabel: "epoch" });
    }
    batchBox.hidden = !r.iterations;
    if (r.iterations) {
      chart("batch", batch, metricRows(r.iterations, ["step", "loss"]), { labels: ["step", "loss"], xlabel: "step" });
    }
    yaml.textContent = r.model_yaml === null ? "(no model.yaml)" : r.model_yaml;
    const ps = (r.run_json && Array.isArray(r.run_json.plugins)) ? r.run_json.plugins : [];
    plugins.tBodies[0].replaceChildren(...ps.map((p) => el("tr", {}, el("td", {}, p.name), el("td", {}, p.version), el("td", {}, p.file))));
    runJson.textContent = r.run_json === null ? "(not written yet: run.json appears when the run ends)" : JSON.stringify(r.run_json, null, 2);
  });
}

// ---- several runs overlaid ----
function comparePage(ids) {
  const charts = el("div", { class: "charts" });
  const which = el("p", { class: "muted" });
  main.replaceChildren(el("h1", {}, "Runs overlaid"), which, charts);
  poll(async () => {
    const runs = await Promise.all(ids.map((id) => api("/api/run?id=" + encodeURIComponent(id))));
    // Validation curves when every run has them (a run trained without a validation split has
    // none), test curves otherwise: one kind of curve on one chart.
    const val = runs.every((r) => metricRows(r.metrics, ["val_loss"]).some((v) => v[0] !== null));
    const part = val ? "val" : "test";
    which.textContent = (val ? "validation" : "test") + " curves of " + runs.map((r) => r.name).join(", ");
    const labels = ["epoch", ...runs.map((r, i) => `${i + 1}. ${r.name}`)];
    // The measures every run reports: a classifier and a regressor share only the loss.
    const common = measures(runs[0].metrics).filter((n) => runs.every((r) => measures(r.metrics).includes(n)));
    const ordered = [...common.filter((n) => n !== "loss"), ...common.filter((n) => n === "loss")];
    for (const [n, div] of chartsFor(charts, ordered, "chart-compare-")) {
      const key = "compare-" + n, column = part + "_" + n;
      const byEpoch = new Map();
      runs.forEach((r, i) => {
        for (const [e, v] of metricRows(r.metrics, ["epoch", column])) {
          if (!byEpoch.has(e)) byEpoch.set(e, new Array(runs.length).fill(null));
          byEpoch.get(e)[i] = v;
        }
      });
      const rows = [...byEpoch.entries()].sort((a, b) => a[0] - b[0]).map(([e, vs]) => [e, ...vs]);
      chart(key, div, rows, { labels, xlabel: "epoch", ylabel: column, connectSeparatedPoints: true });
    }
  });
}

// ---- one search ----
// The journal keeps every score as higher-is-better (-measure for a loss, an mae...): shown as measured.
function metricValue(search, score) {
  return search.higher_is_better === false && typeof score === "number" ? -score : score;
}

function searchPage(id) {
  const title = el("h1", {}, id);
  const status = el("p");
  const ranking = table([], "ranking");
  const scatters = el("div", { class: "charts" });
  const curves = el("div", { class: "chart", id: "chart-best-trials" });
  const rounds = table(["round", "hyperparameter", "sampled", "range"], "rounds");
  const importance = table(["hyperparameter", "importance"], "importance");
  const importanceNote = el("p", { class: "muted" });
  const parallel = el("div", { id: "parallel" });
  const paretoBox = el("div", { hidden: "" }, el("h2", {}, "The Pareto front"), el("p", { class: "muted" },
    "every completed trial; the front (trials no other beats in every objective) in its own colour"));
  const paretoCharts = el("div", { class: "charts" });
  paretoBox.append(paretoCharts);
  main.replaceChildren(title, status, paretoBox, el("h2", {}, "Score against each hyperparameter"), scatters,
    el("h2", {}, "Parallel coordinates"), parallel,
    el("h2", {}, "Importance"), importanceNote, importance,
    el("h2", {}, "The best trials, epoch by epoch"), curves, el("h2", {}, "Ranked trials"), el("div", { class: "scroll" }, ranking),
    el("h2", {}, "Rounds"), rounds);
  const scatterDivs = {};
  poll(async () => {
    const s = await api("/api/search?id=" + encodeURIComponent(id));
    title.textContent = s.name;
    status.replaceChildren(badge(s), ` ${s.done}${s.planned ? " / " + s.planned : ""} trials, ${s.pruned} pruned; best ${s.metric} ` + fixed(s.best_val, 4));
    const metric = s.metric || "score";
    const trials = s.trials.filter((t) => t.values);
    // The ranked table: results.csv once the search has written it, the journal until then.
    let columns, rows;
    if (s.results && s.results.columns.length) {
      columns = s.results.columns;
      rows = s.results.rows.map((r) => r.map((v) => (v === null ? "" : v)));
    } else {
      const dims = (s.space || []).map((d) => d.name);
      const order = { ok: 0, pruned: 1, diverged: 2, failed: 3 };
      const sorted = [...trials].sort((a, b) => (order[a.status] - order[b.status]) ||
        ((typeof b.score === "number" ? b.score : -Infinity) - (typeof a.score === "number" ? a.score : -Infinity)));
      columns = ["rank", "trial", "round", "status", "epochs", metric, ...dims];
      rows = sorted.map((t, i) => [i + 1, t.trial, t.round, t.status, (t.scores || []).length,
        typeof t.score === "number" ? metricValue(s, t.score).toFixed(6) : "", ...dims.map((d) => (t.values[d] ? t.values[d].text : ""))]);
    }
    ranking.tHead.rows[0].replaceChildren(...columns.map((c) => el("th", {}, c)));
    const statusAt = columns.indexOf("status");
    ranking.tBodies[0].replaceChildren(...rows.map((r) => el("tr", { class: statusAt >= 0 ? String(r[statusAt]) : "" },
      ...r.map((v) => el("td", { class: typeof v === "number" ? "num" : "" }, num(v))))));
    // One scatter per hyperparameter: the score of each finished trial, pruned ones apart.
    for (const d of s.space || []) {
      if (!scatterDivs[d.name]) {
        scatterDivs[d.name] = el("div", { class: "chart small", id: "chart-scatter-" + d.name });
        scatters.append(el("div", {}, el("h2", {}, d.name + (d.log ? " (log scale)" : "")), scatterDivs[d.name]));
      }
      const points = trials.filter((t) => t.values[d.name] && typeof t.score === "number" && (t.status === "ok" || t.status === "pruned"))
        .map((t) => [t.values[d.name].number, t.status === "ok" ? metricValue(s, t.score) : null, t.status === "pruned" ? metricValue(s, t.score) : null])
        .sort((a, b) => a[0] - b[0]);
      const opts = { labels: [d.name, "finished", "pruned"], drawPoints: true, strokeWidth: 0, pointSize: 3, ylabel: metric,
        colors: ["#23395d", "#bbbbbb"], xRangePad: 12, yRangePad: 12,
        axes: { x: d.log ? { logscale: true, ticker: decadeTicks, valueFormatter: num } : { valueFormatter: num } } };
      if (d.range) opts.dateWindow = d.range;  // the first round's range: later rounds narrow inside it
      if (d.choices) {
        const names = d.labels || d.choices;  // a branching choice's alternatives by name
        const label = (x) => (Number.isInteger(x) && names[x] !== undefined ? names[x] : "");
        opts.axes.x.axisLabelFormatter = label;
        opts.axes.x.valueFormatter = label;
        opts.axes.x.pixelsPerLabel = 30;
        opts.dateWindow = [-0.5, d.choices.length - 0.5];
      }
      chart("scatter-" + d.name, scatterDivs[d.name], points, opts);
    }
    // The five best finished trials' scores per epoch.
    const best = trials.filter((t) => t.status === "ok" && typeof t.score === "number").sort((a, b) => b.score - a.score).slice(0, 5);
    const epochs = Math.max(0, ...best.map((t) => t.scores.length));
    const curveRows = [];
    for (let e = 0; e < epochs; ++e) curveRows.push([e + 1, ...best.map((t) => (e < t.scores.length ? metricValue(s, t.scores[e]) : null))]);
    chart("best-trials", curves, curveRows, { labels: ["epoch", ...best.map((t) => "trial " + t.trial)], xlabel: "epoch", ylabel: metric });
    // The ranges each round sampled (rounds.json once written; the first round's from the journal).
    const roundRows = [];
    const rs = Array.isArray(s.rounds) ? s.rounds : [{ round: 1, space: Object.fromEntries((s.space || []).map((d) => [d.name, { type: d.type, range: d.choices || d.range }])) }];
    const labels = Object.fromEntries((s.space || []).filter((d) => d.labels).map((d) => [d.name, d.labels]));
    for (const r of rs) {
      for (const [name, d] of Object.entries(r.space || {})) {
        const range = labels[name] || d.range;
        roundRows.push(el("tr", {}, el("td", {}, r.round), el("td", {}, name), el("td", {}, d.type),
          el("td", {}, Array.isArray(range) ? range.map((v) => (typeof v === "number" ? v.toPrecision(4) : v)).join(d.type === "choice" ? ", " : " … ") : "")));
      }
    }
    rounds.tBodies[0].replaceChildren(...roundRows);
    drawImportance(s, importance, importanceNote);
    drawParallel(s, parallel, trials);
    drawPareto(s, paretoBox, paretoCharts, trials);
  });
}

// summary.json's importance (PED-ANOVA, computed by the search): a bar and the value per
// hyperparameter, largest first.
function drawImportance(s, t, note) {
  const imp = s.summary && s.summary.importance;
  if (!imp || typeof imp.values !== "object") {
    note.textContent = "written to summary.json when the search ends, with at least 10 completed trials";
    t.hidden = true;
    return;
  }
  t.hidden = false;
  note.textContent = `${imp.method}: how far each hyperparameter's distribution among the top ${Math.round(imp.quantile * 100)}% of trials by ${imp.of} departs from its distribution among all; they sum to 1`;
  const entries = Object.entries(imp.values).filter(([, v]) => typeof v === "number").sort((a, b) => b[1] - a[1]);
  t.tBodies[0].replaceChildren(...entries.map(([name, v]) => el("tr", {}, el("td", {}, name),
    el("td", {}, el("span", { class: "bar", style: `width: ${Math.round(v * 200)}px` }), v.toFixed(3)))));
}

const SVG = "http://www.w3.org/2000/svg";
function svg(tag, attrs, text) {
  const e = document.createElementNS(SVG, tag);
  for (const [k, v] of Object.entries(attrs || {})) e.setAttribute(k, v);
  if (text !== undefined) e.textContent = text;  // text, never markup
  return e;
}

// One vertical axis per hyperparameter and one for the score; a line per completed trial,
// coloured by its score (dark: better). Log ranges on the log scale, choices evenly spaced.
function drawParallel(s, box, trials) {
  const dims = s.space || [];
  const done = trials.filter((t) => t.status === "ok" && typeof t.score === "number");
  if (!dims.length || done.length < 2) {
    box.replaceChildren(el("p", { class: "muted" }, "no completed trials yet"));
    return;
  }
  const width = Math.max(520, Math.min(1250, 150 * (dims.length + 1))), height = 300, top = 30, bottom = 30;
  const axes = dims.map((d) => {
    const names = d.labels || d.choices;
    if (d.choices) return { name: d.name, pos: (t) => (t.values[d.name] ? t.values[d.name].number / Math.max(1, d.choices.length - 1) : null), ticks: names.map((n, i) => [i / Math.max(1, names.length - 1), n]) };
    const f = d.log ? Math.log10 : (x) => x;
    const [lo, hi] = d.range || [0, 1];
    const a = f(lo), b = f(hi);
    return { name: d.name, pos: (t) => (t.values[d.name] ? (f(t.values[d.name].number) - a) / ((b - a) || 1) : null), ticks: [[0, num(lo)], [1, num(hi)]] };
  });
  const scores = done.map((t) => metricValue(s, t.score));
  const smin = Math.min(...scores), smax = Math.max(...scores);
  const better = (v) => (s.higher_is_better === false ? (smax - v) : (v - smin)) / ((smax - smin) || 1);
  axes.push({ name: s.metric || "score", pos: (t) => (metricValue(s, t.score) - smin) / ((smax - smin) || 1), ticks: [[0, num(Number(smin.toPrecision(4)))], [1, num(Number(smax.toPrecision(4)))]] });
  const x = (i) => 60 + i * (width - 120) / (axes.length - 1);
  const y = (p) => top + (1 - p) * (height - top - bottom);
  const g = svg("svg", { class: "parallel", width, height, viewBox: `0 0 ${width} ${height}` });
  done.sort((a, b) => better(metricValue(s, a.score)) - better(metricValue(s, b.score)));  // the best drawn last, on top
  for (const t of done) {
    const q = better(metricValue(s, t.score));
    const pts = [];
    axes.forEach((a, i) => { const p = a.pos(t); if (p !== null && Number.isFinite(p)) pts.push(`${x(i).toFixed(1)},${y(p).toFixed(1)}`); });
    const line = svg("polyline", { points: pts.join(" "), stroke: `hsl(215, 55%, ${Math.round(85 - 60 * q)}%)` });
    line.append(svg("title", {}, `trial ${t.trial}: ${s.metric} ${num(metricValue(s, t.score))}`));
    g.append(line);
  }
  axes.forEach((a, i) => {
    g.append(svg("line", { class: "axis", x1: x(i), x2: x(i), y1: y(0), y2: y(1) }));
    g.append(svg("text", { x: x(i), y: 16, "text-anchor": "middle" }, a.name.length > 26 ? a.name.slice(0, 25) + "…" : a.name));
    for (const [p, label] of a.ticks) g.append(svg("text", { x: x(i) + 4, y: y(p) + 4 }, String(label)));
  });
  box.replaceChildren(g);
}

// `objectives:`: the first objective against each other one; front members apart. The front
// is computed here from the journal (dominance in every objective), so it is right while the
// search runs too.
function drawPareto(s, box, charts, trials) {
  const objectives = Array.isArray(s.objectives) ? s.objectives : null;
  box.hidden = !objectives;
  if (!objectives) return;
  const done = trials.filter((t) => t.status === "ok" && t.objectives && objectives.every((o) => typeof t.objectives[o.name] === "number"));
  const score = (t, o) => (o.higher_is_better ? t.objectives[o.name] : -t.objectives[o.name]);
  const dominated = (t) => done.some((u) => u !== t && objectives.every((o) => score(u, o) >= score(t, o)) && objectives.some((o) => score(u, o) > score(t, o)));
  const front = new Set(done.filter((t) => !dominated(t)));
  const first = objectives[0];
  const others = objectives.slice(1);
  if (charts.children.length !== others.length) {
    charts.replaceChildren(...others.map((o) => el("div", {}, el("h2", {}, `${first.name} against ${o.name}`),
      el("div", { class: "chart", id: "chart-pareto-" + o.name }))));
  }
  others.forEach((o, k) => {
    const rows = done.map((t) => [t.objectives[o.name], front.has(t) ? t.objectives[first.name] : null, front.has(t) ? null : t.objectives[first.name]])
      .sort((a, b) => a[0] - b[0]);
    const log = o.name === "parameters" && rows.length && rows[0][0] > 0;
    const opts = {
      labels: [o.name, "front", "dominated"], drawPoints: true, strokeWidth: 0, pointSize: 4, xlabel: o.name, ylabel: first.name,
      colors: ["#d62728", "#9aa7b8"], xRangePad: 12, yRangePad: 12,
      axes: { x: log ? { logscale: true, ticker: decadeTicks, valueFormatter: num } : { valueFormatter: num, axisLabelFormatter: num } } };
    if (log) {
      // dygraphs pads a log axis in linear units, which can cross zero and draw nothing: the
      // window is set instead, a fifth of a decade beyond the points.
      delete opts.xRangePad;
      opts.dateWindow = [rows[0][0] / 1.6, rows[rows.length - 1][0] * 1.6];
    }
    chart("pareto-" + o.name, charts.children[k].querySelector(".chart"), rows, opts);
  });
}

// ---- every run and trial of the served folders, TensorBoard's HParams view ----
function hparamsPage() {
  const filter = el("input", { type: "search", placeholder: "filter: words a row must contain" });
  const varying = el("input", { type: "checkbox", checked: "" });
  const kinds = el("select", {}, el("option", { value: "" }, "runs and trials"), el("option", { value: "run" }, "runs"), el("option", { value: "trial" }, "search trials"));
  const refresh = el("button", {}, "Reload");
  const count = el("span", { class: "muted" });
  const t = el("table", { id: "hparams" }, el("thead", {}, el("tr")), el("tbody"));
  main.replaceChildren(el("h1", {}, "Hyperparameters and metrics"),
    el("p", { class: "muted" }, "one row per run (its model.yaml's keys, its last epoch's measures) and per search trial (its values, score and objectives); click a column to sort"),
    el("div", { class: "tools" }, filter, kinds, el("label", {}, varying, " only the keys that differ"), refresh, count),
    el("div", { class: "scroll" }, t));
  ++state.page;
  let data = [], sortBy = null, descending = false;
  const draw = () => {
    const words = filter.value.toLowerCase().split(/\s+/).filter(Boolean);
    const rows = data.filter((r) => (!kinds.value || r.kind === kinds.value) &&
      words.every((w) => r.text.includes(w)));
    let params = [...new Set(rows.flatMap((r) => Object.keys(r.params)))].sort();
    // A key that differs among the rows that have it (a trial has only its search's keys).
    if (varying.checked) params = params.filter((p) => new Set(rows.filter((r) => r.params[p] !== undefined).map((r) => r.params[p])).size > 1);
    const metrics = [...new Set(rows.flatMap((r) => Object.keys(r.metrics)))].sort();
    const columns = [["name", (r) => r.name], ["kind", (r) => r.kind], ["trial", (r) => (r.trial === null || r.trial === undefined ? "" : r.trial)], ["status", (r) => r.status || ""],
      ...metrics.map((m) => [m, (r) => (typeof r.metrics[m] === "number" ? r.metrics[m] : "")]),
      ...params.map((p) => [p, (r) => { const v = r.params[p]; if (v === undefined) return ""; const n = Number(v); return v !== "" && Number.isFinite(n) ? n : v; }])];
    if (sortBy !== null && columns.some(([c]) => c === sortBy)) {
      const get = columns.find(([c]) => c === sortBy)[1];
      rows.sort((a, b) => {
        const x = get(a), y = get(b);
        if (x === "" && y !== "") return 1;
        if (y === "" && x !== "") return -1;
        const c = typeof x === "number" && typeof y === "number" ? x - y : String(x).localeCompare(String(y));
        return descending ? -c : c;
      });
    }
    t.tHead.rows[0].replaceChildren(...columns.map(([c]) => {
      const th = el("th", { class: "sortable" + (c === sortBy ? (descending ? " desc" : " asc") : ""), title: metrics.includes(c) ? "a measure" : "" }, c);
      th.addEventListener("click", () => { descending = sortBy === c ? !descending : metrics.includes(c); sortBy = c; draw(); });
      return th;
    }));
    t.tBodies[0].replaceChildren(...rows.map((r) => el("tr", { class: String(r.status || "") }, ...columns.map(([c, get], i) => {
      const v = get(r);
      if (i === 0) return el("td", { class: "nowrap" }, link(r.kind === "run" ? "run" : "search", r.id, r.name));
      return el("td", { class: typeof v === "number" ? "num" : "" }, num(v));
    }))));
    count.textContent = `${rows.length} of ${data.length} rows`;
  };
  const load = async () => {
    try {
      const h = await api("/api/hparams?limit=1000");
      data = h.rows.map((r) => Object.assign(r, {
        text: [r.name, r.kind, r.status, ...Object.entries(r.params).map(([k, v]) => k + " " + v)].join(" ").toLowerCase() }));
      document.getElementById("updated").textContent = "loaded " + new Date().toLocaleTimeString();
      draw();
    } catch (e) {
      count.textContent = "cannot reach lamina serve: " + e.message;
    }
  };
  for (const c of [filter, kinds, varying]) c.addEventListener("input", draw);
  refresh.addEventListener("click", load);
  load();
}

// ---- the plugins ----
async function pluginsPage() {
  ++state.page;
  const types = await api("/api/plugins");
  const parts = [el("h1", {}, "Plugins"), el("p", { class: "muted" }, `${types.length} types; the same as \`lamina plugins info TYPE\``)];
  const kinds = [...new Set(types.map((t) => t.kind))];
  for (const kind of kinds) {
    const t = table(["type", "plugin", "summary", "keys"]);
    t.tBodies[0].replaceChildren(...types.filter((x) => x.kind === kind).map((x) => el("tr", { "data-type": x.name },
      el("td", {}, el("b", {}, x.name)),
      el("td", { class: "nowrap" }, `${x.plugin} ${x.version}`),
      el("td", {}, x.summary),
      el("td", {}, x.keys.length ? el("ul", {}, ...x.keys.map((k) => {
        // "(required)" comes in parentheses of its own: "(int, required)", not "(int, (required))".
        const d = k.default === null ? "" : ", " + String(k.default).replace(/^\((.*)\)$/, "$1");
        return el("li", {}, el("code", {}, k.name), ` (${k.type}${d}): ${k.doc}`);
      })) : "none"))));
    parts.push(el("h2", {}, kind), t);
  }
  main.replaceChildren(...parts);
}

function route() {
  clearTimeout(state.timer);
  const hash = location.hash || "#/";
  const [, kind, rest] = hash.match(/^#\/([a-z]*)\/?(.*)$/) || [];
  const arg = decodeURIComponent(rest || "");
  if (kind === "run" && arg) runPage(arg);
  else if (kind === "search" && arg) searchPage(arg);
  else if (kind === "compare" && rest) comparePage(rest.split(",").map(decodeURIComponent));
  else if (kind === "hparams") hparamsPage();
  else if (kind === "plugins") pluginsPage().catch((e) => main.replaceChildren(el("p", { class: "problem" }, e.message)));
  else listPage();
}

window.addEventListener("hashchange", route);
route();
