"use strict";
// The branded portal: no build step, no dependencies. The API key lives in sessionStorage and travels only in the
// Authorization header; every value from the API is put on the page as text (never as HTML).
(function () {
  const config = JSON.parse(document.getElementById("portal-config").textContent);
  const storageKey = "revgov.portal." + config.tenant_id + ".key";
  const SVG = "http://www.w3.org/2000/svg";
  const $ = (id) => document.getElementById(id);
  let viewer = { partnerId: null, role: null, keyId: null, decides: [], currency: null };
  const partnerNames = {};

  // What a person reads: "Channel ops", 1,234.50 USD as the browser's locale writes it, 6 Dec 2026, 14:05.
  function words(code) {
    if (code === null || code === undefined || code === "") return "–";
    const text = String(code).replace(/_/g, " ");
    return text.charAt(0).toUpperCase() + text.slice(1);
  }
  function money(amount, currency) {
    if (amount === null || amount === undefined || amount === "") return "–";
    const value = Number(amount);
    if (!currency || !isFinite(value)) return String(amount);
    try {
      return new Intl.NumberFormat(undefined, { style: "currency", currency }).format(value);
    } catch (e) {
      return amount + " " + currency;
    }
  }
  function when(iso) {
    if (!iso) return "–";
    const date = new Date(iso);
    if (isNaN(date.getTime())) return String(iso);
    const dateOnly = /^\d{4}-\d{2}-\d{2}$/.test(iso);
    return new Intl.DateTimeFormat(undefined, dateOnly ? { dateStyle: "medium", timeZone: "UTC" } : { dateStyle: "medium", timeStyle: "short" }).format(date);
  }
  async function partnerName(partnerId) {
    if (!partnerId) return "–";
    if (!(partnerId in partnerNames)) {
      partnerNames[partnerId] = api("GET", "v1/partners/" + partnerId).then((p) => p.legal_name || partnerId, () => partnerId);
    }
    return partnerNames[partnerId];
  }

  function el(tag, attrs, text) {
    const node = document.createElement(tag);
    Object.entries(attrs || {}).forEach(([k, v]) => node.setAttribute(k, v));
    if (text !== undefined && text !== null) node.textContent = String(text);
    return node;
  }
  function svg(tag, attrs, text) {
    const node = document.createElementNS(SVG, tag);
    Object.entries(attrs || {}).forEach(([k, v]) => node.setAttribute(k, String(v)));
    if (text !== undefined) node.textContent = String(text);
    return node;
  }
  function status(message, isError) {
    $("status").textContent = message || "";
    $("status").className = isError ? "error" : "";
  }
  function key() { return sessionStorage.getItem(storageKey); }

  async function api(method, path, body) {
    const headers = { Authorization: "Bearer " + key() };
    if (body !== undefined) headers["Content-Type"] = "application/json";
    const response = await fetch(config.api_base + path, {
      method, headers, body: body === undefined ? undefined : JSON.stringify(body), credentials: "omit",
    });
    const data = await response.json().catch(() => ({}));
    if (!response.ok) {
      const error = new Error((data && (data.detail || data.title)) || response.statusText);
      error.status = response.status;
      throw error;
    }
    return data;
  }

  function periods() {
    const now = new Date();
    const year = now.getUTCFullYear();
    const quarter = Math.floor(now.getUTCMonth() / 3) + 1;
    const list = [];
    for (let i = 0; i < 4; i++) {
      const q = ((quarter - 1 - i) % 4 + 4) % 4 + 1;
      const y = year - (quarter - 1 - i < 0 ? 1 : 0);
      list.push(y + "-Q" + q);
    }
    for (let i = 0; i < 3; i++) {
      const d = new Date(Date.UTC(year, now.getUTCMonth() - i, 1));
      list.push(d.getUTCFullYear() + "-" + String(d.getUTCMonth() + 1).padStart(2, "0"));
    }
    return list;
  }

  function card(label, value) {
    const node = el("div", { class: "card" });
    node.append(el("div", { class: "label" }, label), el("div", { class: "value" }, value === null || value === undefined ? "–" : value));
    return node;
  }

  function barChart(target, rows, max, unit) {
    const width = 320, bar = 22, gap = 8, left = 90;
    const height = rows.length * (bar + gap) + 10;
    const chart = svg("svg", { viewBox: "0 0 " + width + " " + height, width: "100%", role: "img" });
    rows.forEach((row, i) => {
      const y = 5 + i * (bar + gap);
      const value = row.value === null ? 0 : Number(row.value);
      const w = max > 0 ? Math.max(0, Math.min(1, value / max)) * (width - left - 50) : 0;
      chart.append(svg("text", { x: 0, y: y + 15 }, row.label));
      chart.append(svg("rect", { x: left, y, width: w, height: bar, fill: row.color || config.primary_color, rx: 3 }));
      chart.append(svg("text", { x: left + w + 4, y: y + 15 }, row.value === null ? "–" : row.value + unit));
    });
    target.replaceChildren(chart);
  }

  function table(target, headers, rows) {
    if (!rows.length) { target.replaceChildren(el("p", { class: "muted" }, "Nothing here.")); return; }
    const t = el("table");
    const head = el("tr");
    headers.forEach((h) => head.append(el("th", {}, h)));
    t.append(head);
    rows.forEach((cells) => {
      const tr = el("tr");
      cells.forEach((cell) => { const td = el("td"); cell instanceof Node ? td.append(cell) : (td.textContent = cell); tr.append(td); });
      t.append(tr);
    });
    target.replaceChildren(t);
  }

  function renderKpis(k) {
    const cards = $("kpi-cards");
    const m = k.net_realized_margin || {};
    cards.replaceChildren(
      card("Net margin", m.net_margin_percent !== undefined ? (m.net_margin_percent === null ? null : m.net_margin_percent + "%") : "withheld"),
      card("Revenue", money(k.support_hours_per_revenue_dollar.revenue, k.currency)),
      card("Invoice cycle p50 / p90 (h)", (k.invoice_cycle_time.p50_hours ?? "–") + " / " + (k.invoice_cycle_time.p90_hours ?? "–")),
      card("Exceptions per 100 transactions", k.policy_exceptions_per_100_transactions.per_100_transactions),
      card("Override rate", k.overrides_and_approvals.override_rate_percent === null ? null : k.overrides_and_approvals.override_rate_percent + "%"),
      card("Approval rate", k.overrides_and_approvals.approval_rate_percent === null ? null : k.overrides_and_approvals.approval_rate_percent + "%"),
      card("Support hours per 1,000 revenue", k.support_hours_per_revenue_dollar.hours_per_1000_revenue),
    );
    if (m.by_tier && m.by_tier.length) {
      $("margin-section").classList.remove("hidden");
      barChart($("margin-chart"), m.by_tier.map((t) => ({ label: t.tier, value: t.net_margin_percent })), 60, "%");
    } else if (m.withheld) {
      $("margin-section").classList.add("hidden");
    } else {
      $("margin-chart").replaceChildren(el("p", { class: "muted" }, "Net margin " + (m.net_margin_percent ?? "–") + "%"));
    }
    const c = k.invoice_cycle_time;
    barChart($("cycle-chart"), [
      { label: "p50", value: c.p50_hours },
      { label: "p90", value: c.p90_hours },
      { label: "SLA", value: c.sla_hours, color: config.accent_color },
    ], Math.max(48, c.p90_hours || 0, c.sla_hours || 0), " h");
    const rows = k.threshold_attainment.thresholds.map((t) => [t.program + " · " + t.level, money(t.threshold, k.currency),
      t.reached + " / " + t.partners, t.median_attainment_percent === null ? "–" : t.median_attainment_percent + "%"]);
    table($("attainment"), ["Threshold", "Amount", "Reached", "Median attainment"], rows);
  }

  function renderForecast(f) {
    const target = $("forecast");
    const max = Math.max(Number(f.interval_80 ? f.interval_80.high : f.projected), ...f.thresholds.map((t) => Number(t.threshold)), 1);
    const width = 320, left = 90;
    const scale = (v) => left + (Number(v) / max) * (width - left - 10);
    const chart = svg("svg", { viewBox: "0 0 " + width + " " + (40 + f.thresholds.length * 18), width: "100%", role: "img" });
    chart.append(svg("text", { x: 0, y: 16 }, "projected"));
    if (f.interval_80) chart.append(svg("rect", { x: scale(f.interval_80.low), y: 6, width: Math.max(1, scale(f.interval_80.high) - scale(f.interval_80.low)), height: 14, fill: config.accent_color, opacity: 0.45 }));
    chart.append(svg("rect", { x: left, y: 8, width: Math.max(1, scale(f.to_date) - left), height: 10, fill: config.primary_color }));
    chart.append(svg("line", { x1: scale(f.projected), x2: scale(f.projected), y1: 2, y2: 24, stroke: config.primary_color, "stroke-width": 2 }));
    f.thresholds.forEach((t, i) => {
      const y = 40 + i * 18;
      chart.append(svg("text", { x: 0, y }, (t.level || "").slice(0, 14)));
      chart.append(svg("line", { x1: scale(t.threshold), x2: scale(t.threshold), y1: y - 10, y2: y + 2, stroke: "#8a1c1c", "stroke-width": 2 }));
      chart.append(svg("text", { x: Math.min(scale(t.threshold) + 4, width - 60), y }, "P(miss) " + Math.round(t.p_miss * 100) + "%"));
    });
    const info = el("p", { class: "muted" }, "To date " + money(f.to_date, viewer.currency) + ", projected " + money(f.projected, viewer.currency) + " (" + f.method + ")");
    target.replaceChildren(chart, info);
  }

  async function decide(approval, outcome, note, row) {
    row.querySelectorAll("button").forEach((b) => (b.disabled = true));
    try {
      const body = { outcome };
      if (note) body.note = note;
      await api("POST", "v1/approvals/" + approval.case_id + "/decision", body);
      row.setAttribute("data-decided", outcome);
      await loadApprovals();
      status("Approval " + approval.case_id + " " + outcome + ".");
    } catch (error) {
      status("Could not decide " + approval.case_id + ": " + error.message, true);
      row.querySelectorAll("button").forEach((b) => (b.disabled = false));
    }
  }

  // Only the role of the case's queue decides, and never on its own request (the API refuses the rest with 403):
  // the buttons are shown only where they would work.
  function mayDecide(c) {
    return viewer.decides.includes(c.queue) && c.requested_by_key !== viewer.keyId;
  }

  async function loadApprovals() {
    const page = await api("GET", "v1/approvals?status=pending&limit=50");
    const rows = await Promise.all(page.items.map(async (a) => {
      const actions = el("div");
      if (mayDecide(a)) {
        const note = el("input", { placeholder: "note", "aria-label": "note for " + a.case_id });
        const approve = el("button", { type: "button", "data-approval": a.case_id, "data-action": "approve" }, "Approve");
        const reject = el("button", { type: "button", class: "reject", "data-approval": a.case_id, "data-action": "reject" }, "Reject");
        actions.append(note, approve, reject);
        approve.addEventListener("click", () => decide(a, "approved", note.value, actions));
        reject.addEventListener("click", () => decide(a, "rejected", note.value, actions));
      } else {
        actions.append(el("span", { class: "muted" }, "for " + words(a.queue)));
      }
      const total = a.context && a.context.net_total;
      const what = el("span", { title: a.case_id }, words(a.category));
      return [what, await partnerName(a.partner_id), words(a.queue), when(a.due_at),
        total ? money(total, (a.context && a.context.currency) || viewer.currency) : "–", actions];
    }));
    table($("approvals"), ["Request", "Partner", "Queue", "Due", "Net total", ""], rows);
  }

  async function loadStaff() {
    await loadApprovals();
    const exceptions = await api("GET", "v1/exceptions?status=open&limit=50");
    table($("exceptions"), ["Exception", "Partner", "Queue", "Due"], await Promise.all(exceptions.items.map(async (e) =>
      [el("span", { title: e.case_id }, words(e.category)), await partnerName(e.partner_id), words(e.queue), when(e.due_at)])));
    const tasks = await api("GET", "v1/tasks?limit=50");
    table($("tasks"), ["Task", "Agent", "Queue", "Confidence"],
      tasks.items.map((t) => [t.title, words(t.agent) + (t.escalated ? " (escalated)" : ""), words(t.queue),
        t.confidence === null || t.confidence === undefined ? "–" : Math.round(Number(t.confidence) * 100) + "%"]));
  }

  async function loadPartner(period) {
    document.querySelectorAll(".partner").forEach((s) => s.classList.remove("hidden"));
    const deals = await api("GET", "v1/deals?limit=50");
    table($("partner-deals"), ["Customer", "Family", "Estimated value", "Expected close", "Status"], deals.items.map((d) => [
      (d.customer && d.customer.name) || d.customer || "–", words(d.family), money(d.estimated_value, viewer.currency),
      when(d.expected_close), words(d.status)]));
    const quarter = /Q/.test(period) ? "?period=" + encodeURIComponent(period) : "";
    const accruals = await api("GET", "v1/rebates/accruals" + quarter).catch(() => ({ items: [] }));
    table($("partner-rebates"), ["Program", "Accrued", "Tier reached"], (accruals.items || []).map((r) => [
      words(r.program_name || r.program_id || r.program), money(r.accrued ?? r.amount, r.currency || viewer.currency),
      words(r.tier_reached ?? r.tier ?? null)]));
    const ent = await api("GET", "v1/partners/" + viewer.partnerId + "/entitlements");
    const rows = Object.entries(ent.entitlements || {}).map(([name, value]) => {
      const v = value && typeof value === "object" ? (value.value ?? value.allowed ?? value.granted) : value;
      return [words(name), v === true ? "Yes" : v === false ? "No" : v === null || v === undefined ? "–" : String(v)];
    });
    table($("partner-entitlements"), ["Entitlement", "Value"], rows);
  }

  async function load() {
    const period = $("period").value;
    status("Loading " + period + "…");
    const me = await api("GET", "v1/me");
    Object.assign(viewer, { role: me.role, keyId: me.key_id, decides: me.decides || [] });
    const k = await api("GET", "v1/kpis?period=" + encodeURIComponent(period));
    viewer.partnerId = k.scope.partner_id;
    viewer.currency = k.currency;
    renderKpis(k);
    if (viewer.partnerId) {
      document.querySelectorAll(".staff").forEach((s) => s.classList.add("hidden"));
      $("forecast-section").classList.remove("hidden");
      const partner = await api("GET", "v1/partners/" + viewer.partnerId);
      $("who").textContent = "Partner view · " + partner.legal_name + " (" + (partner.tier || "no tier") + ")";
      renderForecast(await api("GET", "v1/partners/" + viewer.partnerId + "/forecast?period=" + encodeURIComponent(period)));
      await loadPartner(period);
    } else {
      $("who").textContent = "Staff view · " + words(viewer.role);
      await loadStaff();
    }
    status("Up to date: " + period + ".");
    document.body.setAttribute("data-loaded", "true");
  }

  async function ask(event) {
    event.preventDefault();
    const question = $("question").value.trim();
    if (question.length < 3) return;
    $("answer").textContent = "Searching the contracts…";
    try {
      const body = { question };
      if (viewer.partnerId) body.partner_id = viewer.partnerId;
      const reply = await api("POST", "v1/copilot/ask", body);
      const parts = [el("div", {}, reply.answer)];
      (reply.citations || []).forEach((c) => parts.push(el("div", { class: "citation" }, c.document + " " + c.clause + ": “" + c.quote + "”")));
      $("answer").replaceChildren(...parts);
    } catch (error) {
      $("answer").textContent = "The copilot could not answer: " + error.message;
    }
  }

  function signedIn() {
    $("signin").classList.add("hidden");
    $("app").classList.remove("hidden");
    $("signout").classList.remove("hidden");
    load().catch((error) => {
      status(error.status === 401 || error.status === 403 ? "This key is not accepted here: " + error.message : error.message, true);
      if (error.status === 401) signOut();
    });
  }
  function signOut() {
    sessionStorage.removeItem(storageKey);
    $("app").classList.add("hidden");
    $("signout").classList.add("hidden");
    $("signin").classList.remove("hidden");
    $("who").textContent = "";
  }

  periods().forEach((p) => $("period").append(el("option", { value: p }, p)));
  $("period").addEventListener("change", () => load().catch((e) => status(e.message, true)));
  $("signin-form").addEventListener("submit", (event) => {
    event.preventDefault();
    const value = $("key").value.trim();
    $("key").value = "";
    if (!value.startsWith("rgk." + (config.tenant_id ? config.tenant_id + "." : ""))) {
      status("That is not a key of " + config.display_name + ".", true);
      return;
    }
    sessionStorage.setItem(storageKey, value);
    signedIn();
  });
  $("signout").addEventListener("click", signOut);
  // A logo that cannot be loaded gives way to the tenant's name, never a broken image.
  $("logo").addEventListener("error", () => { $("logo").classList.add("hidden"); });
  $("copilot-form").addEventListener("submit", ask);
  if (key()) signedIn();
})();
