// The branded portal: no build step, no dependencies. It runs after the shared prelude (page.js: the key in
// sessionStorage, sent only in the Authorization header; every value from the API put on the page as text).
(function () {
  const { config, $, el, svg, status, api, list, session, noticeText } = revgovPage("portal-config", "revgov.portal.");
  const fallbackNotice = $("copilot-notice").textContent;  // the page's words until an answer brings the tenant's
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

  // `more`: the list went on past what was fetched (page.js `list`): the table says so under its rows.
  function table(target, headers, rows, more) {
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
    if (more) target.append(el("p", { class: "muted" }, "The first " + rows.length + " are shown; the API lists the rest."));
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
      await api("POST", "v1/approvals/" + approval.approval_id + "/decision", body);
      row.setAttribute("data-decided", outcome);
      await loadApprovals();
      status("Approval " + approval.approval_id + " " + outcome + ".");
    } catch (error) {
      status("Could not decide " + approval.approval_id + ": " + error.message, true);
      row.querySelectorAll("button").forEach((b) => (b.disabled = false));
    }
  }

  // Only the role of the case's queue decides, and never on its own request (the API refuses the rest with 403):
  // the buttons are shown only where they would work.
  function mayDecide(c) {
    return viewer.decides.includes(c.queue) && c.requested_by_key !== viewer.keyId;
  }

  // SOP-4.2 / COP-4.2: the step an item is at now (the API computes it) and when the next one is due
  function escalationStep(c) {
    const e = c.escalation_step;
    if (!e) return "–";
    const next = e.next_step ? " (next: " + words(e.next_step).toLowerCase() + " " + when(e.next_at) + ")" : "";
    return words(e.step) + (e.paused ? ", paused" : "") + next;
  }

  async function loadApprovals() {
    const page = await list("v1/approvals?status=pending&limit=200");
    const rows = await Promise.all(page.items.map(async (a) => {
      const actions = el("div");
      if (mayDecide(a)) {
        const note = el("input", { placeholder: "note", "aria-label": "note for " + a.approval_id });
        const approve = el("button", { type: "button", "data-approval": a.approval_id, "data-action": "approve" }, "Approve");
        const reject = el("button", { type: "button", class: "reject", "data-approval": a.approval_id, "data-action": "reject" }, "Reject");
        actions.append(note, approve, reject);
        approve.addEventListener("click", () => decide(a, "approved", note.value, actions));
        reject.addEventListener("click", () => decide(a, "rejected", note.value, actions));
      } else {
        actions.append(el("span", { class: "muted" }, "for " + words(a.queue)));
      }
      const total = a.context && a.context.net_total;
      const what = el("span", { title: a.approval_id }, words(a.category));
      return [what, await partnerName(a.partner_id), words(a.queue), when(a.due_at), escalationStep(a),
        total ? money(total, (a.context && a.context.currency) || viewer.currency) : "–", actions];
    }));
    table($("approvals"), ["Request", "Partner", "Queue", "Due", "Escalation", "Net total", ""], rows, page.more);
  }

  async function loadStaff() {
    await loadApprovals();
    const exceptions = await list("v1/exceptions?status=open&limit=200");
    table($("exceptions"), ["Exception", "Partner", "Queue", "Due", "Escalation"], await Promise.all(exceptions.items.map(async (e) =>
      [el("span", { title: e.exception_id }, words(e.category)), await partnerName(e.partner_id), words(e.queue), when(e.due_at),
        escalationStep(e)])),
      exceptions.more);
    const tasks = await list("v1/tasks?limit=200");
    table($("tasks"), ["Task", "Agent", "Queue", "Confidence"],
      tasks.items.map((t) => [t.title, words(t.agent) + (t.escalated ? " (escalated)" : ""), words(t.queue),
        t.confidence === null || t.confidence === undefined ? "–" : Math.round(Number(t.confidence) * 100) + "%"]), tasks.more);
  }

  function month(period) {  // "2026-10" -> "Oct 2026" as the browser's locale writes it
    if (!/^\d{4}-\d{2}$/.test(period || "")) return period || "–";
    return new Intl.DateTimeFormat(undefined, { month: "short", year: "numeric", timeZone: "UTC" })
      .format(new Date(period + "-01T00:00:00Z"));
  }

  async function loadPartner(period) {
    document.querySelectorAll(".partner").forEach((s) => s.classList.remove("hidden"));
    const quotes = await list("v1/decisions?limit=200");
    table($("partner-quotes"), ["Quote", "Checked", "Net total", "Outcome", "Status"], quotes.items
      .filter((d) => d.kind === "pricing")
      .map((d) => [el("span", { title: d.decision_id }, d.subject.id), when(d.created_at),
        money(d.net_total, viewer.currency), words(d.outcome), words(d.status)]), quotes.more);
    const deals = await list("v1/deals?limit=200");
    table($("partner-deals"), ["Customer", "Family", "Estimated value", "Expected close", "Status"], deals.items.map((d) => [
      (d.customer && d.customer.name) || d.customer || "–", words(d.family), money(d.estimated_value, viewer.currency),
      when(d.expected_close), words(d.status)]), deals.more);
    await loadInvoices();
    const quarter = /Q/.test(period) ? "?period=" + encodeURIComponent(period) : "";
    const accruals = await list("v1/rebates/accruals" + quarter).catch(() => ({ items: [] }));
    // one accrual per period, one row per program of it: the level reached, what the next needs, what is payable
    table($("partner-rebates"), ["Program", "Level reached", "Next level", "Accrued"], (accruals.items || []).flatMap((a) =>
      (a.programs || []).map((p) => [p.name || words(p.program_id), level(p.tier_reached),
        p.next_tier ? level(p.next_tier) + (p.volume_needed === null || p.volume_needed === undefined ? "" :
          " (" + (p.units !== null && p.units !== undefined ? p.volume_needed + " units" : money(p.volume_needed, viewer.currency)) + " more)") : "–",
        money(p.payable, viewer.currency)])));
    const ent = await api("GET", "v1/partners/" + viewer.partnerId + "/entitlements");
    const rows = Object.entries(ent.entitlements || {}).map(([name, value]) => {
      const v = value && typeof value === "object" ? (value.value ?? value.allowed ?? value.granted) : value;
      return [words(name), v === true ? "Yes" : v === false ? "No" : v === null || v === undefined ? "–" : String(v)];
    });
    table($("partner-entitlements"), ["Entitlement", "Value"], rows);
    // the items waiting on the partner's answer (SOP-1.3), and the desk that has each: the team, never the person
    const waiting = await list("v1/waiting?limit=200");
    table($("partner-waiting"), ["Item", "Question", "Asked", "With"], waiting.items.map((w) => [
      el("span", { title: w.approval_id || w.exception_id }, words(w.category)), w.question, when(w.asked_at),
      w.desk ? words(w.desk.queue) + (w.desk.assigned ? " (assigned)" : "") : "–"]), waiting.more);
  }

  function level(tier) {  // a program's level: "2.0% from $250,000.00"
    if (!tier || typeof tier !== "object") return "–";
    return Number(tier.percent) + "% from " + money(tier.from, viewer.currency);
  }

  // The partner's own invoices (the API answers a partner key with its own only), newest month first; an issued
  // (finalized) invoice's lines can be disputed here, as SOP-6.1 has it "through the Partner Portal".
  async function loadInvoices() {
    const [finalized, drafts] = await Promise.all(["finalized", "draft"].map((s) =>
      list("v1/invoices?status=" + s + "&limit=200").then((page) => page.items, () => [])));
    const invoices = finalized.concat(drafts).sort((a, b) => (a.period < b.period ? 1 : a.period > b.period ? -1 : 0));
    table($("partner-invoices"), ["Month", "Status", "Lines", "Total", ""], invoices.map((i) => {
      const open = el("button", { type: "button", "data-invoice": i.invoice_id }, "Lines");
      open.addEventListener("click", () => showInvoice(i.invoice_id).catch((e) => status(e.message, true)));
      return [el("span", { title: i.invoice_id }, month(i.period)),
        i.status === "finalized" ? "Issued " + when(i.finalized_at) : "Open (draft)", String(i.line_count),
        money(i.total, i.currency), open];
    }));
  }

  async function showInvoice(invoiceId) {
    const invoice = await api("GET", "v1/invoices/" + invoiceId);
    // Art. 226(5): the supplier's name, as the invoice carries it (issued: as on its issue day; a draft: today's)
    $("partner-invoice-title").textContent = "Invoice for " + month(invoice.period) + " · " +
      money(invoice.total, invoice.currency) + (invoice.issuer ? " · issued by " + invoice.issuer.legal_name : "");
    const issued = invoice.status === "finalized";
    table($("partner-invoice-lines"), ["#", "Description", "Quantity", "Amount", issued ? "Dispute" : ""],
      invoice.lines.map((line) => [String(line.number), line.description || words(line.kind),
        line.quantity === null || line.quantity === undefined ? "–" : String(line.quantity),
        money(line.amount, invoice.currency), issued ? disputeForm(invoice, line) : el("span", { class: "muted" }, "not issued yet")]));
    $("partner-invoice-section").classList.remove("hidden");
  }

  function disputeForm(invoice, line) {
    const form = el("form", { class: "dispute", "data-line": String(line.number) });
    const amount = el("input", { name: "amount", inputmode: "decimal", placeholder: "whole line",
      "aria-label": "disputed amount of line " + line.number });
    const reason = el("input", { name: "reason", placeholder: "why the line is wrong", required: "required",
      "aria-label": "reason for disputing line " + line.number });
    form.append(amount, reason, el("button", { type: "submit" }, "Dispute"));
    form.addEventListener("submit", async (event) => {
      event.preventDefault();
      const body = { line_no: line.number, reason: reason.value.trim() };
      if (amount.value.trim()) body.amount = amount.value.trim();
      form.querySelectorAll("button").forEach((b) => (b.disabled = true));
      try {
        const filed = await api("POST", "v1/invoices/" + invoice.invoice_id + "/disputes", body);
        form.replaceChildren(el("span", { "data-dispute": filed.dispute_id }, "Disputed " +
          money(filed.amount, invoice.currency) + " · " + words(filed.status)));
        status("Dispute of line " + line.number + " filed (" + money(filed.amount, invoice.currency) + "); finance decides it.");
      } catch (error) {
        status("Could not dispute line " + line.number + ": " + error.message, true);
        form.querySelectorAll("button").forEach((b) => (b.disabled = false));
      }
    });
    return form;
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
      $("copilot-notice").textContent = noticeText(reply.notice, fallbackNotice);
      const parts = [el("div", {}, reply.answer)];
      (reply.citations || []).forEach((c) => parts.push(el("div", { class: "citation" }, c.document + " " + c.clause + ": “" + c.quote + "”")));
      $("answer").replaceChildren(...parts);
    } catch (error) {
      $("answer").textContent = "The copilot could not answer: " + error.message;
    }
  }

  // nothing of this key's data stays on the page for the next key to see
  function clear() {
    document.querySelectorAll(".partner, #partner-invoice-section").forEach((s) => s.classList.add("hidden"));
    ["partner-quotes", "partner-invoices", "partner-invoice-lines", "partner-deals", "partner-rebates",
      "partner-entitlements", "approvals", "exceptions", "tasks", "kpi-cards", "answer"].forEach((id) => $(id).replaceChildren());
    $("who").textContent = "";
    $("copilot-notice").textContent = fallbackNotice;
  }
  const check = (value) =>
    value.startsWith("rgk." + (config.tenant_id ? config.tenant_id + "." : "")) ? null : "That is not a key of " + config.display_name + ".";

  periods().forEach((p) => $("period").append(el("option", { value: p }, p)));
  $("period").addEventListener("change", () => load().catch((e) => status(e.message, true)));
  // A logo that cannot be loaded gives way to the tenant's name, never a broken image.
  $("logo").addEventListener("error", () => { $("logo").classList.add("hidden"); });
  $("copilot-form").addEventListener("submit", ask);
  session({ load, check, clear });
})();
