/*
 * evalkit HTML report, part 2 of 4: the tables. The runs' own scores, the paper's tables (Table 2
 * layout, sortable), the gaps to the reference models and the not-compared list.
 */

/* ---------- 0. the runs' own scores ---------- */

function orDash(v) {
  return v === null || v === undefined || v === "" ? "\u2013" : String(v);
}

// Every suite each run scored, as its scores.json has it: shown whether or not the paper reports the split.
function renderScores() {
  var root = host("scores");
  if (!D.scores.length) {
    append(root, el("p", { class: "empty" }, "This report holds no run, only the paper's models."));
    return;
  }
  var headers = [{ label: "Run", text: true }, { label: "Suite", text: true }, { label: "Metric", text: true },
    { label: "Score" }, { label: "n" }, { label: "Errors" }, { label: "Protocol", text: true },
    { label: "Note", text: true }, { label: "Paper's tables", text: true }];
  var rows = D.scores.map(function (s) {
    var scored = typeof s.score === "number";
    return [{ text: s.run }, { text: s.suite, title: s.title }, { text: orDash(s.metric) },
      { text: scored ? fmt(s.score, 2) : "not scored", cls: "score" + (scored ? "" : " na") },
      { text: orDash(s.n) }, { text: orDash(s.errors), cls: s.errors ? "neg" : "" }, { text: orDash(s.protocol) },
      { text: s.note, cls: "wrap note" }, { text: s.paper, cls: "wrap paper" }];
  });
  append(root, simpleTable("scores-table", headers, rows, function (i) {
    return { class: "own", "data-run": D.scores[i].run, "data-suite": D.scores[i].suite };
  }));
}

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
