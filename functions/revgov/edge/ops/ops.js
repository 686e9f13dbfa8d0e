// The operations view: Revgov's own metrics over time (GET /v1/metrics, per minute) and the channel-equity
// comparisons (GET /v1/equity). No build step, no dependencies; it runs after the shared prelude (page.js).
(function () {
  const { $, el, svg, status, api, session } = revgovPage("ops-config", "revgov.ops.");
  // [title, metric, how to read each minute (count | mean | sum), split by this label (optional)]
  const CHARTS = [
    ["Requests per minute", "Requests", "count", "status_class"],
    ["Latency per minute (mean ms)", "RequestLatency", "mean", null],
    ["Workflow failures", "HandlerFailures", "sum", "handler"],
    ["Webhook deliveries", "WebhookDeliveries", "sum", "outcome"],
    ["Approvals and exceptions opened", "CasesOpened", "sum", "kind"],
    ["Decisions by outcome", "CaseDecisions", "sum", "outcome"],
    ["Overrides", "Overrides", "sum", null],
    ["Copilot answers", "CopilotAnswers", "sum", "outcome"],
  ];
  const COLOURS = ["#1F4E79", "#F2A900", "#8a1c1c", "#2e7d32", "#6a1b9a", "#00838f"];

  // One line per split value: minute -> value, over the last hour.
  function lines(metric, how, split) {
    const byLine = {};
    ((metric && metric.series) || []).forEach((s) => {
      const name = split ? (s.labels[split] || "—") : "all";
      const line = byLine[name] = byLine[name] || {};
      s.per_minute.forEach((p) => {
        const slot = line[p.minute] = line[p.minute] || { count: 0, sum: 0 };
        slot.count += p.count;
        slot.sum += p.sum;
      });
    });
    const now = Math.floor(Date.now() / 60000);
    const minutes = [];
    for (let m = now - 59; m <= now; m += 1) minutes.push(new Date(m * 60000).toISOString().slice(0, 17) + "00Z");
    return Object.entries(byLine).map(([name, line]) => [name, minutes.map((m) => {
      const slot = line[m];
      if (!slot) return 0;
      return how === "count" ? slot.count : how === "mean" ? slot.sum / Math.max(1, slot.count) : slot.sum;
    })]);
  }

  function chart(title, data) {
    const w = 360, h = 140, pad = 28;
    const top = Math.max(1, ...data.flatMap(([, values]) => values));
    const node = svg("svg", { viewBox: `0 0 ${w} ${h + 20}`, width: "100%", role: "img", "aria-label": title });
    node.append(svg("line", { x1: pad, y1: h, x2: w - 4, y2: h, stroke: "#c9d1dc" }));
    node.append(svg("text", { x: 0, y: 12 }, String(Math.round(top * 100) / 100)));
    node.append(svg("text", { x: 0, y: h }, "0"));
    node.append(svg("text", { x: pad, y: h + 14 }, "60 min ago"));
    node.append(svg("text", { x: w - 30, y: h + 14 }, "now"));
    data.forEach(([name, values], i) => {
      const points = values.map((v, x) => `${pad + (x * (w - pad - 4)) / 59},${h - (v / top) * (h - 16)}`).join(" ");
      node.append(svg("polyline", { points, fill: "none", stroke: COLOURS[i % COLOURS.length], "stroke-width": 2 }));
      node.append(svg("text", { x: pad + 4 + (i % 3) * 110, y: 12 + Math.floor(i / 3) * 12,
                                fill: COLOURS[i % COLOURS.length] }, name));
    });
    const section = el("section", { class: "chart" });
    section.append(el("h2", {}, title), node);
    return section;
  }

  function card(label, value) {
    const node = el("div", { class: "card" });
    node.append(el("div", { class: "label" }, label), el("div", { class: "value" }, value));
    return node;
  }

  function total(metric, match) {
    return ((metric && metric.series) || []).filter((s) => Object.entries(match || {}).every(
      ([k, v]) => s.labels[k] === v)).reduce((n, s) => n + (s.sum || 0), 0);
  }

  function render(view, equity) {
    const m = view.metrics;
    const latency = (m.RequestLatency && m.RequestLatency.series) || [];
    const p99 = latency.reduce((top, s) => Math.max(top, s.p99 || 0), 0);
    const drift = m.CopilotRefusalDrift && m.CopilotRefusalDrift.series[0];
    $("signal-cards").replaceChildren(
      card("Requests", total(m.Requests)),
      card("5xx", total(m.Requests, { status_class: "5xx" })),
      card("Latency p99 (ms, worst operation)", Math.round(p99)),
      card("Handler failures", total(m.HandlerFailures)),
      card("Dead letters", total(m.DeadLetters)),
      card("SLA breaches", total(m.ApprovalSlaBreaches)),
      card("Overrides", total(m.Overrides)),
      card("Copilot refusals", total(m.CopilotAnswers, { outcome: "refused" })),
      card("Refusal drift vs baseline", drift ? (Math.round(drift.value * 1000) / 1000) : "—"),
      card("Equity findings", equity.findings.length),
    );
    $("charts").replaceChildren(...CHARTS.map(([title, name, how, split]) => chart(title, lines(m[name], how, split))));
    const table = el("table");
    const head = el("tr");
    ["measure", "dimension", "segment", "value", "expected", "adjusted p", "finding"].forEach((t) => head.append(el("th", {}, t)));
    table.append(head);
    equity.comparisons.slice().sort((a, b) => a.adjusted_p_value - b.adjusted_p_value).slice(0, 10).forEach((c) => {
      const row = el("tr");
      [c.measure, c.dimension, c.segment, c.segment_value, c.expected_value, c.adjusted_p_value,
       c.finding ? "against " + c.disadvantaged : "no"].forEach((v) => row.append(el("td", {}, v)));
      table.append(row);
    });
    $("equity").replaceChildren(el("p", { class: "muted" }, equity.comparisons.length + " comparisons, " +
      equity.findings.length + " finding(s); method: " + equity.method), table);
  }

  async function load() {
    status("Loading…");
    const [view, equity] = await Promise.all([api("GET", "v1/metrics"), api("GET", "v1/equity")]);
    render(view, equity);
    $("who").textContent = "Since " + view.since;
    status("Up to date.");
    document.body.setAttribute("data-loaded", "true");
  }

  session({ load });
})();
