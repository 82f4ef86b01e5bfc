/*
 * evalkit HTML report: draws every table and chart from the JSON block #report-data.
 *
 * Security: everything in the JSON block (model names, predictions, dataset text) is untrusted.
 * This script never parses data as HTML: nodes are made with createElement / createElementNS,
 * text goes in with textContent (createTextNode), attributes with setAttribute, and an image
 * source is set only when it matches IMAGE_RE. No innerHTML, no eval, no inline event handlers.
 */
(function () {
  "use strict";

  // The SVG namespace, derived from the page's own XHTML namespace so that this file holds no
  // absolute URL at all (the report must not reference anything on the network).
  var SVGNS = document.documentElement.namespaceURI.replace("1999/xhtml", "2000/svg");
  var IMAGE_RE = /^data:image\/(png|jpeg);base64,[A-Za-z0-9+\/=]+$/;
  var RUN_COLOURS = ["#e0a800", "#d9480f", "#7b2cbf", "#0b7a75", "#c2255c", "#2b8a3e"];
  var REF_COLOURS = ["#2f5fd0", "#1c7ed6", "#5c940d", "#868e96", "#ae3ec9", "#f08c00"];
  var SAMPLE_PAGE = 200;
  var D = JSON.parse(document.getElementById("report-data").textContent);

  /* ---------- DOM helpers ---------- */

  function append(node, children) {
    if (children === null || children === undefined) return node;
    if (!Array.isArray(children)) children = [children];
    children.forEach(function (child) {
      if (child === null || child === undefined) return;
      if (typeof child === "string" || typeof child === "number") {
        node.appendChild(document.createTextNode(String(child)));
      } else {
        node.appendChild(child);
      }
    });
    return node;
  }

  function setAttrs(node, attrs) {
    Object.keys(attrs || {}).forEach(function (name) {
      var value = attrs[name];
      if (value !== null && value !== undefined && value !== false) node.setAttribute(name, String(value));
    });
    return node;
  }

  function el(tag, attrs, children) {
    return append(setAttrs(document.createElement(tag), attrs), children);
  }

  function sv(tag, attrs, children) {
    return append(setAttrs(document.createElementNS(SVGNS, tag), attrs), children);
  }

  function host(id) {
    var node = document.getElementById(id);
    while (node.firstChild) node.removeChild(node.firstChild);
    return node;
  }

  function fmt(value, decimals) {
    if (value === null || value === undefined || typeof value !== "number" || !isFinite(value)) return "\u2013";
    return value.toFixed(decimals === undefined ? 1 : decimals);
  }

  function signed(value, decimals) {
    var text = fmt(value, decimals);
    return typeof value === "number" && value > 0 ? "+" + text : text;
  }

  function shorten(text, limit) {
    return text.length > limit ? text.slice(0, limit - 1) + "\u2026" : text;
  }

  // A header label as text pieces with <wbr> break chances inside CamelCase and after hyphens
  // of long labels ("Hallusion|Bench", "MMBench-|EN"), so that Table 2 fits the page width.
  function breakable(label) {
    if (String(label).length < 10 || /\s/.test(label)) return [String(label)];  // short, or spaces break it
    var pieces = String(label).split(/(?<=[a-z]-?)(?=[A-Z])|(?<=-)/);
    var out = [];
    pieces.forEach(function (piece, i) {
      if (i) out.push(el("wbr"));
      out.push(piece);
    });
    return out;
  }

  function columnByKey(key) {
    for (var i = 0; i < D.columns.length; i++) if (D.columns[i].key === key) return D.columns[i];
    return { key: key, label: key, sub: "", decimals: 1, higher_is_better: true };
  }

  function value(row, key) {
    var v = row.values[key];
    return typeof v === "number" && isFinite(v) ? v : null;
  }

  function better(column, a, b) {
    return column.higher_is_better === false ? a < b : a > b;
  }

  /* ---------- colours: runs first, then the plotted references ---------- */

  var colourOf = {};
  (function assignColours() {
    var runs = 0;
    var refs = 0;
    D.rows.forEach(function (row) {
      if (row.kind === "run") colourOf[row.name] = RUN_COLOURS[runs++ % RUN_COLOURS.length];
    });
    D.radar.models.forEach(function (name) {
      if (!(name in colourOf)) colourOf[name] = REF_COLOURS[refs++ % REF_COLOURS.length];
    });
  })();

  /* ---------- 1. leaderboard (Table 2 layout) ---------- */

  function renderLeaderboard() {
    var root = host("leaderboard-table");
    D.sections.forEach(function (section, i) {
      var columns = section.keys.map(columnByKey);
      var rows = D.rows.filter(function (row) {
        return row.kind === "run" || columns.some(function (c) { return value(row, c.key) !== null; });
      });
      append(root, [el("h3", { class: "section-title" }, section.name),
        sortableTable("leaderboard-" + i, columns, rows)]);
    });
  }

  // One paper table: the runs' rows first, then the baselines with a value in it; click a header to sort.
  function sortableTable(id, columns, rows) {
    var sort = { key: null, dir: 0 };
    var table = el("table", { class: "leaderboard", id: id });
    var head = el("tr");
    var headers = [{ key: "name", label: "Model", sub: "", text: true }, { key: "open", label: "Open", sub: "source" },
      { key: "params", label: "Param", sub: "" }].concat(columns);
    headers.forEach(function (column) {
      var arrow = el("span", { class: "arrow" });
      var button = el("button", { class: "sort", type: "button", title: column.metric || ("sort by " + column.label) },
        breakable(column.label).concat([arrow, el("span", { class: "sub" }, column.sub || "")]));
      var th = el("th", { class: column.text ? "text" : null, "data-key": column.key, scope: "col" }, button);
      button.addEventListener("click", function () {
        if (sort.key !== column.key) { sort.key = column.key; sort.dir = 1; }
        else sort.dir = sort.dir === 1 ? -1 : (sort.dir === -1 ? 0 : 1);
        draw();
      });
      head.appendChild(th);
    });
    var body = el("tbody");
    append(table, [el("thead", null, head), body]);

    function sortValue(row, key) {
      if (key === "name") return row.name.toLowerCase();
      if (key === "open") return row.open_source === null ? null : (row.open_source ? 1 : 0);
      if (key === "params") return row.params_b;
      return value(row, key);
    }

    function ordered() {
      var indexed = rows.map(function (row, i) { return { row: row, i: i }; });
      if (sort.key && sort.dir !== 0) {
        var bestFirst = sort.key !== "name" && columnByKey(sort.key).higher_is_better !== false;
        indexed.sort(function (a, b) {
          var va = sortValue(a.row, sort.key);
          var vb = sortValue(b.row, sort.key);
          if (va === null || vb === null) return (va === null) - (vb === null) || a.i - b.i;  // missing: last
          var cmp = va < vb ? -1 : (va > vb ? 1 : 0);
          return sort.dir * (bestFirst ? -cmp : cmp) || a.i - b.i;  // first click: best (or A) first
        });
      }
      return indexed.map(function (r) { return r.row; });
    }

    function draw() {
      Array.prototype.forEach.call(head.children, function (th) {
        var on = th.getAttribute("data-key") === sort.key && sort.dir !== 0;
        th.setAttribute("aria-sort", on ? (sort.dir === 1 ? "descending" : "ascending") : "none");
        th.querySelector(".arrow").textContent = on ? (sort.dir === 1 ? " \u25bc" : " \u25b2") : "";
      });
      while (body.firstChild) body.removeChild(body.firstChild);
      var previousKind = null;
      var unsorted = !sort.key || sort.dir === 0;
      ordered().forEach(function (row) {
        var cls = [row.kind === "run" ? "run" : "baseline"];
        if (unsorted && previousKind === "run" && row.kind !== "run") cls.push("group-start");
        previousKind = row.kind;
        var tr = el("tr", { class: cls.join(" "), "data-model": row.name }, [
          el("td", { class: "text" }, [row.name, row.kind === "run" ? el("span", { class: "tag" }, "this run") : null]),
          el("td", null, row.open_source === null ? "" : (row.open_source ? "\u2714" : "\u2718")),
          el("td", null, row.params || "")]);
        columns.forEach(function (column) {
          var v = value(row, column.key);
          var isBest = v !== null && row.best[column.key] === true;
          var note = row.notes[column.key] || null;
          tr.appendChild(el("td", {
            class: (isBest ? "best" : "") + (v === null ? " na" : ""),
            "data-suite": column.key,
            title: isBest ? "best in column" + (note ? "\n" + note : "") : note
          }, fmt(v, column.decimals) + (row.flags[column.key] || "")));
        });
        body.appendChild(tr);
      });
    }
    draw();
    return el("div", { class: "scroll" }, table);
  }

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

  /* ---------- 5. gaps and the not-compared list ---------- */

  function simpleTable(id, headers, rows) {
    var table = el("table", { id: id });
    append(table, el("thead", null, el("tr", null, headers.map(function (h) {
      return el("th", { class: h.text ? "text" : null, scope: "col" }, h.label);
    }))));
    var body = el("tbody");
    rows.forEach(function (cells) {
      body.appendChild(el("tr", null, cells.map(function (cell, i) {
        return el("td", { class: [headers[i].text ? "text" : "", cell.cls || ""].join(" ").trim() || null }, cell.text);
      })));
    });
    table.appendChild(body);
    return el("div", { class: "scroll" }, table);
  }

  function renderGaps() {
    var root = host("gaps");
    if (!D.gaps.length) {
      append(root, el("p", { class: "empty" }, "No suite has both a run's value and a reference value."));
      return;
    }
    append(root, simpleTable("gaps-table", [
      { label: "Run", text: true }, { label: "Suite", text: true }, { label: "Run value" },
      { label: "Reference", text: true }, { label: "Reference value" }, { label: "Gap (run \u2212 reference)" }],
    D.gaps.map(function (g) {
      var column = columnByKey(g.suite);
      var good = column.higher_is_better === false ? g.gap < 0 : g.gap > 0;
      return [{ text: g.run }, { text: column.label }, { text: fmt(g.value, column.decimals) }, { text: g.reference },
        { text: g.reference_value === null ? "no paper value" : fmt(g.reference_value, column.decimals) },
        { text: signed(g.gap, column.decimals), cls: g.gap === null || g.gap === 0 ? "" : (good ? "pos" : "neg") }];
    })));
  }

  function renderNotCompared() {
    var root = host("not-compared");
    if (!D.not_compared.length) {
      append(root, el("p", { class: "empty" }, "Every suite of every run was compared."));
      return;
    }
    append(root, simpleTable("not-compared-table",
      [{ label: "Run", text: true }, { label: "Suite", text: true }, { label: "Value" },
        { label: "Reason", text: true }],
      D.not_compared.map(function (n) {
        return [{ text: n.run || "" }, { text: n.suite }, { text: fmt(n.value, 2) }, { text: n.reason }];
      })));
  }

  /* ---------- 4. sample browser ---------- */

  function status(score) {
    if (typeof score !== "number") return "unscored";
    return score >= 1 - 1e-9 ? "correct" : "incorrect";
  }

  function readHash() {
    var params = new URLSearchParams(location.hash.replace(/^#/, ""));
    return {
      filter: params.get("filter") || "",
      status: params.get("status") || "all",
      sort: params.get("sort") || "index",
      run: params.get("run"),
      suite: params.get("suite")
    };
  }

  function renderSamples() {
    var root = host("samples");
    if (!D.samples.length) {
      append(root, el("p", { class: "empty" }, "No samples were passed to the report."));
      return;
    }
    var groupSelect = el("select", { id: "sample-group" });
    D.samples.forEach(function (g, i) {
      groupSelect.appendChild(el("option", { value: i }, g.run + " \u2014 " + g.suite +
        " (" + g.items.length + ")"));
    });
    var filterInput = el("input", { id: "sample-filter", type: "search", placeholder: "text in prompt or prediction" });
    var statusSelect = el("select", { id: "sample-status" }, [["all", "all"], ["correct", "correct (full credit)"],
      ["incorrect", "incorrect (less than full credit)"], ["unscored", "not scored"]].map(function (o) {
      return el("option", { value: o[0] }, o[1]);
    }));
    var sortSelect = el("select", { id: "sample-sort" }, [["index", "dataset order"],
      ["score-asc", "score, lowest first"],
      ["score-desc", "score, highest first"]].map(function (o) { return el("option", { value: o[0] }, o[1]); }));
    var count = el("span", { class: "count", id: "sample-count" });
    var breakdown = el("div", { id: "sample-breakdown" });
    var list = el("div", { id: "sample-list" });
    append(root, [el("div", { class: "controls" }, [
      el("label", null, ["Run and suite", groupSelect]), el("label", null, ["Filter", filterInput]),
      el("label", null, ["Show", statusSelect]), el("label", null, ["Sort", sortSelect]), count]), breakdown, list]);

    function applyHash() {
      var state = readHash();
      if (state.run !== null || state.suite !== null) {
        var match = D.samples.findIndex(function (g) {
          return (state.run === null || g.run === state.run) && (state.suite === null || g.suite === state.suite);
        });
        if (match >= 0) groupSelect.value = String(match);
      }
      filterInput.value = state.filter;
      statusSelect.value = state.status;
      sortSelect.value = state.sort;
      if (statusSelect.value === "") statusSelect.value = "all";
      if (sortSelect.value === "") sortSelect.value = "index";
      draw();
    }

    function writeHash() {
      var g = D.samples[Number(groupSelect.value)];
      var params = new URLSearchParams();
      params.set("run", g.run);
      params.set("suite", g.suite);
      if (filterInput.value) params.set("filter", filterInput.value);
      if (statusSelect.value !== "all") params.set("status", statusSelect.value);
      if (sortSelect.value !== "index") params.set("sort", sortSelect.value);
      try { history.replaceState(null, "", "#" + params.toString()); } catch (e) { /* file:// may refuse */ }
    }

    function turns(label, values) {
      if (values.length === 1) return el("div", { class: "turn" }, values[0]);
      return values.map(function (text, i) {
        return el("div", { class: "turn" }, [el("span", { class: "turn-label" }, label + " " + (i + 1)), text]);
      });
    }

    function drawBreakdown(g) {
      while (breakdown.firstChild) breakdown.removeChild(breakdown.firstChild);
      var b = g.breakdown;
      if (!b) return;
      var headline = b.metric + " " + (typeof b.score === "number" ? fmt(b.score, 2) : "not scored") +
        (b.n === null ? "" : " on " + b.n + " samples") + (b.protocol ? ", " + b.protocol + " protocol" : "") +
        (b.reason ? " (" + b.reason + ")" : "");
      var details = el("details", { class: "breakdown", id: "sample-breakdown-details" },
        el("summary", null, g.title + ": " + headline));
      b.sections.forEach(function (section) {
        details.appendChild(el("h4", null, section.name));
        details.appendChild(simpleTable(null, [{ label: "", text: true }].concat(section.columns.map(function (c) {
          return { label: c };
        })), section.rows.map(function (r) {
          return [{ text: r[0] }].concat(r[1].map(function (v) {
            return { text: typeof v === "number" ? fmt(v, Number.isInteger(v) ? 0 : 2) : (v === null ? "\u2013" : v) };
          }));
        })));
      });
      breakdown.appendChild(details);
    }

    var shown = SAMPLE_PAGE;
    function draw() {
      var g = D.samples[Number(groupSelect.value)] || D.samples[0];
      drawBreakdown(g);
      var needle = filterInput.value.toLowerCase();
      var wanted = statusSelect.value;
      var items = g.items.filter(function (s) {
        if (wanted !== "all" && status(s.score) !== wanted) return false;
        if (!needle) return true;
        return (s.instruction.join("\n") + "\n" + s.prediction.join("\n")).toLowerCase().indexOf(needle) >= 0;
      });
      if (sortSelect.value !== "index") {
        var dir = sortSelect.value === "score-asc" ? 1 : -1;
        items = items.map(function (s, i) { return { s: s, i: i }; }).sort(function (a, b) {
          var va = typeof a.s.score === "number" ? a.s.score : null;
          var vb = typeof b.s.score === "number" ? b.s.score : null;
          if (va === null || vb === null) return (va === null) - (vb === null) || a.i - b.i;
          return dir * (va - vb) || a.i - b.i;
        }).map(function (x) { return x.s; });
      }
      count.textContent = items.length + " of " + g.items.length + " samples";
      while (list.firstChild) list.removeChild(list.firstChild);
      var withImages = g.items.some(function (s) { return typeof s.image === "string" && IMAGE_RE.test(s.image); });
      var columns = [["index", "#"], ["image", "Image"], ["instruction", "Prompt"], ["prediction", "Prediction"],
        ["extracted", "Extracted / answer"], ["score", "Score"]].filter(function (c) {
        return withImages || c[0] !== "image";
      });
      var table = el("table", { class: "samples", id: "sample-table", "data-run": g.run, "data-suite": g.suite });
      append(table, [
        el("colgroup", null, columns.map(function (c) { return el("col", { class: "c-" + c[0] }); })),
        el("thead", null, el("tr", null, columns.map(function (c) {
          return el("th", { class: "text", scope: "col" }, c[1]);
        })))]);
      var body = el("tbody");
      items.slice(0, shown).forEach(function (s) {
        var image = null;
        if (typeof s.image === "string" && IMAGE_RE.test(s.image)) {
          image = el("img", { class: "thumb", alt: "sample " + s.index, loading: "lazy" });
          image.setAttribute("src", s.image);
        }
        var answer = s.answer === null || s.answer === undefined ? null :
          el("span", { class: "answer" }, "answer: " + s.answer);
        body.appendChild(el("tr", { class: "sample " + status(s.score), "data-index": s.index }, [
          el("td", { class: "index", title: String(s.index) }, String(s.index)),
          withImages ? el("td", { class: "image" }, image) : null,
          el("td", { class: "instruction" }, turns("turn", s.instruction)),
          el("td", { class: "prediction" }, turns("turn", s.prediction)),
          el("td", { class: "extracted" }, [s.extracted === null ? "\u2013" : String(s.extracted), answer]),
          el("td", { class: "score" }, typeof s.score === "number" ? fmt(s.score, 2) : "not scored")]));
      });
      table.appendChild(body);
      list.appendChild(el("div", { class: "scroll" }, table));
      if (items.length > shown) {
        var more = el("button", { class: "more", type: "button" },
          "Show " + Math.min(SAMPLE_PAGE, items.length - shown) + " more (" + (items.length - shown) + " hidden)");
        more.addEventListener("click", function () { shown += SAMPLE_PAGE; draw(); });
        list.appendChild(more);
      }
    }

    function changed() { shown = SAMPLE_PAGE; writeHash(); draw(); }
    groupSelect.addEventListener("change", changed);
    filterInput.addEventListener("input", changed);
    statusSelect.addEventListener("change", changed);
    sortSelect.addEventListener("change", changed);
    window.addEventListener("hashchange", applyHash);
    applyHash();
  }

  /* ---------- boot ---------- */

  function boot() {
    document.title = D.title;
    document.getElementById("report-title").textContent = D.title;
    document.getElementById("report-subtitle").textContent = D.subtitle;
    [renderLeaderboard, renderRadar, renderBars, renderGaps, renderNotCompared, renderSamples].forEach(function (step) {
      try {
        step();
      } catch (error) {
        document.body.setAttribute("data-error", String(error));
        var banner = el("p", { class: "error-banner" }, "Part of this report could not be drawn: " + String(error));
        document.querySelector("main").insertBefore(banner, document.querySelector("main").firstChild);
      }
    });
    document.body.setAttribute("data-ready", "1");
  }

  boot();
})();
