// shardgate console: polls /api/status every second and redraws the
// panels; all values are set as text, never as HTML.
"use strict";

function el(tag, text, cls) {
  const e = document.createElement(tag);
  if (text !== undefined && text !== null) e.textContent = String(text);
  if (cls) e.className = cls;
  return e;
}

function row(cells, attrs) {
  const tr = document.createElement("tr");
  for (const c of cells) {
    tr.appendChild(c instanceof Node ? c : el("td", c));
  }
  for (const k in attrs || {}) tr.setAttribute(k, attrs[k]);
  return tr;
}

function fill(id, rows, cols, empty) {
  const body = document.getElementById(id);
  body.replaceChildren(...rows);
  if (rows.length === 0) {
    const td = el("td", empty, "empty");
    td.colSpan = cols;
    body.appendChild(row([td]));
  }
}

const num = (v, digits) => el("td", digits === undefined ? v : Number(v).toFixed(digits), "num");

function draw(st) {
  const shards = [];
  for (const ks of st.keyspaces) {
    for (const sh of ks.shards) {
      shards.push(row([ks.name, sh.name,
        el("td", sh.serving ? "serving" : "not serving", sh.serving ? "ok" : "dim"),
        sh.primary || "—"], {"data-shard": ks.name + "/" + sh.name}));
    }
  }
  fill("shards", shards, 4, "no keyspaces");

  fill("tablets", st.tablets.map(t => row([t.alias, t.keyspace + "/" + t.shard, t.type, t.address,
    el("td", (t.healthy ? "healthy" : "unhealthy") + (t.problem ? " (" + t.problem + ")" : ""), t.healthy ? (t.serving ? "ok" : "dim") : "bad"),
    t.lag_seconds === null || t.lag_seconds === undefined ? el("td", "—", "dim") : num(t.lag_seconds, 1),
    num(t.pool_in_use)], {"data-alias": t.alias})), 7, "no tablets");

  fill("recoveries", st.recoveries.map(r => row([new Date(r.time).toLocaleString(),
    r.keyspace + "/" + r.shard, r.old_primary, r.new_primary, r.reason])), 5, "no failovers recorded");

  fill("workflows", st.workflows.map(w => {
    let copied = 0, total = 0;
    for (const k in w.copy || {}) {
      const p = w.copy[k];
      copied += p.rows_copied || 0;
      total += p.rows_total || 0;
    }
    const progress = total > 0 ? Math.round(100 * copied / total) + "%" : (copied ? copied + " rows" : "—");
    return row([w.keyspace, w.name, w.kind, w.state,
      (w.source_shards || []).join(",") + " → " + (w.target_shards || []).join(","), progress]);
  }), 6, "no workflows");

  fill("twopc", st.twopc.map(r => row([r.dtid, r.state,
    (r.participants || []).map(p => p.keyspace + "/" + p.shard).join(", "),
    new Date(r.decided).toLocaleString(), r.by])), 5, "none: every distributed transaction is finished");

  fill("queries", st.queries.map(q => row([q.keyspace, el("td", q.text, "q"),
    el("td", q.count, "num count"), num(q.rows), num(q.errors), num(q.total_ms, 1), num(q.p50_ms, 3), num(q.p99_ms, 3),
    num(q.count ? q.shard_queries / q.count : 0, 1)], {"data-digest": q.id})), 9, "no statements yet");

  const errs = st.errors ? " — " + Object.entries(st.errors).map(([k, v]) => k + ": " + v).join("; ") : "";
  document.getElementById("updated").textContent = "updated " + new Date(st.time).toLocaleTimeString() + errs;
}

async function poll() {
  try {
    const resp = await fetch("/api/status", {cache: "no-store"});
    draw(await resp.json());
  } catch (e) {
    document.getElementById("updated").textContent = "gateway unreachable: " + e;
  }
  setTimeout(poll, 1000);
}

document.getElementById("vx-form").addEventListener("submit", async ev => {
  ev.preventDefault();
  const out = document.getElementById("vx-out");
  out.textContent = "…";
  const body = new URLSearchParams({
    keyspace: document.getElementById("vx-keyspace").value,
    mode: document.getElementById("vx-mode").value,
    query: document.getElementById("vx-query").value,
  });
  try {
    const resp = await fetch("/api/vexplain", {method: "POST", body});
    const res = await resp.json();
    if (res.error) {
      out.textContent = "error: " + res.error;
      out.dataset.state = "error";
      return;
    }
    out.textContent = res.statement + "\n\n" + res.columns.join("\t") + "\n" +
      res.rows.map(r => r.join("\t")).join("\n");
    out.dataset.state = "done";
  } catch (e) {
    out.textContent = "error: " + e;
    out.dataset.state = "error";
  }
});

poll();
