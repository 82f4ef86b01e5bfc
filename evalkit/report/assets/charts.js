/*
 * evalkit HTML report, part 3 of 4: the radar chart and the per-suite bar charts (SVG).
 */

/* ---------- 2. radar chart ---------- */

function renderRadar() {
  var root = host("radar");
  var axes = D.radar.axes;
  var models = D.radar.models;
  if (axes.length < 3 || models.length === 0) {
    append(root, el("p", { class: "empty" },
      "Not enough suites with values to draw a radar chart (it needs three)."));
    return;
  }
  var rowsByName = {};
  D.rows.forEach(function (row) { rowsByName[row.name] = row; });
  var size = 600, cx = 300, cy = 300, radius = 200;
  var svg = sv("svg", { class: "radar", id: "radar-chart", width: size, height: size, viewBox: "0 0 600 600",
    role: "img", "aria-label": "radar chart of the runs against the reference models" });
  function point(i, r) {
    var angle = -Math.PI / 2 + (2 * Math.PI * i) / axes.length;
    return [cx + r * Math.cos(angle), cy + r * Math.sin(angle)];
  }
  [0.25, 0.5, 0.75, 1].forEach(function (level) {
    var d = axes.map(function (_, i) {
      var p = point(i, radius * level);
      return (i ? "L" : "M") + p[0].toFixed(1) + " " + p[1].toFixed(1);
    }).join(" ") + " Z";
    svg.appendChild(sv("path", { class: "grid", d: d }));
    svg.appendChild(sv("text", { class: "ring-label", x: cx + 3, y: cy - radius * level - 2 },
      Math.round(level * 100) + "%"));
  });
  var extreme = axes.map(function (key) {
    var column = columnByKey(key);
    var best = null;
    models.forEach(function (name) {
      var v = rowsByName[name] ? value(rowsByName[name], key) : null;
      if (v !== null && v > 0 && (best === null || better(column, v, best))) best = v;
    });
    return best;
  });
  axes.forEach(function (key, i) {
    var end = point(i, radius);
    var at = point(i, radius + 16);
    var cos = Math.cos(-Math.PI / 2 + (2 * Math.PI * i) / axes.length);
    svg.appendChild(sv("line", { class: "axis", x1: cx, y1: cy, x2: end[0].toFixed(1), y2: end[1].toFixed(1) }));
    svg.appendChild(sv("text", {
      class: "axis-label", x: at[0].toFixed(1), y: (at[1] + 4).toFixed(1),
      "text-anchor": Math.abs(cos) < 0.2 ? "middle" : (cos > 0 ? "start" : "end")
    }, columnByKey(key).label));
  });
  var ordered = models.slice().reverse();  // runs last, so they are drawn on top
  ordered.forEach(function (name) {
    var row = rowsByName[name];
    var colour = colourOf[name];
    var points = axes.map(function (key, i) {
      var v = row ? value(row, key) : null;
      var column = columnByKey(key);
      var share = v === null || extreme[i] === null ? 0 :
        (column.higher_is_better === false ? extreme[i] / v : v / extreme[i]);
      return { xy: point(i, radius * Math.max(0, Math.min(1, share))), v: v, key: key, share: share };
    });
    var isRun = row && row.kind === "run";
    svg.appendChild(sv("polygon", {
      class: "series" + (isRun ? " run" : ""), "data-model": name, fill: colour, stroke: colour,
      points: points.map(function (p) { return p.xy[0].toFixed(1) + "," + p.xy[1].toFixed(1); }).join(" ")
    }, sv("title", null, name)));
    points.forEach(function (p) {
      var column = columnByKey(p.key);
      svg.appendChild(sv("circle", { class: "point", cx: p.xy[0].toFixed(1), cy: p.xy[1].toFixed(1), r: isRun ? 4 : 3,
        fill: colour }, sv("title", null, name + " \u2014 " + column.label + ": " +
        (p.v === null ? "no value"
          : fmt(p.v, column.decimals) + " (" + Math.round(p.share * 100) + "% of the best)"))));
    });
  });
  var legend = el("ul", { class: "legend", id: "radar-legend" });
  models.forEach(function (name) {
    var row = rowsByName[name];
    var swatch = el("span", { class: "swatch" });
    swatch.style.background = colourOf[name];
    legend.appendChild(el("li", { "data-model": name },
      [swatch, name, row && row.kind === "run" ? el("span", { class: "tag" }, "this run") : null]));
  });
  append(root, [el("div", { class: "chart-row" }, [svg, el("div", { class: "radar-side" }, [legend,
    el("p", { class: "note" }, D.radar.method)])])]);
}

/* ---------- 3. per-suite bar charts ---------- */

function renderBars() {
  var root = host("bars");
  if (!D.bars.length) {
    append(root, el("p", { class: "empty" }, "No suite has a value to chart."));
    return;
  }
  D.sections.forEach(function (section) {
    var keys = section.keys.filter(function (key) { return D.bars.indexOf(key) >= 0; });
    if (!keys.length) return;
    root.appendChild(el("h3", { class: "section-title" }, section.name));
    var grid = el("div", { class: "bars" });
    keys.forEach(barChart.bind(null, grid));
    root.appendChild(grid);
  });
}

function barChart(grid, key) {
  var column = columnByKey(key);
  var entries = D.rows.filter(function (row) { return value(row, key) !== null; });
  entries.sort(function (a, b) {
    return better(column, value(a, key), value(b, key)) ? -1 : (better(column, value(b, key), value(a, key)) ? 1 : 0);
  });
  var max = 0;
  entries.forEach(function (row) { max = Math.max(max, value(row, key)); });
  var rowH = 17, labelW = 170, plotW = 190, width = labelW + plotW + 56, height = entries.length * rowH + 6;
  var svg = sv("svg", { class: "bar", "data-suite": key, width: width, height: height,
    viewBox: "0 0 " + width + " " + height, role: "img", "aria-label": column.label + " by model" });
  entries.forEach(function (row, i) {
    var v = value(row, key);
    var y = 3 + i * rowH;
    var kind = row.kind === "run" ? "run" : (D.radar.models.indexOf(row.name) >= 0 ? "reference" : "baseline");
    var w = max > 0 ? Math.max(1, (plotW * Math.max(0, v)) / max) : 1;
    svg.appendChild(sv("text", { class: "label" + (kind === "run" ? " run" : ""), x: labelW - 6, y: y + 12,
      "text-anchor": "end" }, [shorten(row.name, 28), sv("title", null, row.name)]));
    svg.appendChild(sv("rect", { class: "bar " + kind, "data-model": row.name, x: labelW, y: y + 2,
      width: w.toFixed(1), height: rowH - 5, rx: 2 }, sv("title", null, row.name + ": " + fmt(v, column.decimals))));
    svg.appendChild(sv("text", { class: "value", x: (labelW + w + 4).toFixed(1), y: y + 12 },
      fmt(v, column.decimals)));
  });
  grid.appendChild(el("div", { class: "bar-card" }, [
    el("h4", null, [column.label, el("span", { class: "sub" }, column.sub || "")]), svg]));
}
