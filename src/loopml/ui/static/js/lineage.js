// The lineage page: dagre lays the graph out left to right (upstream to downstream),
// ECharts draws it with the computed positions (graph series, layout "none").
// Labels are drawn as canvas text; the tooltip escapes what it shows.
"use strict";
(function () {
  const COLORS = {
    dataset_version: "#2da44e", run: "#0969da", pipeline_run: "#54aeff", tuning_study: "#54aeff",
    commit: "#6e7781", environment: "#6e7781", model_version: "#8250df", alias: "#bf8700",
    deployment: "#cf222e", monitor: "#fb8f44", alert_rule: "#d1242f", policy_run: "#1a7f37",
  };
  const escapeHtml = (s) => String(s).replace(/[&<>"']/g, (c) => (
    { "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" }[c]));
  const shorten = (s) => (s.length > 28 ? s.slice(0, 27) + "…" : s);

  function layout(data) {
    const g = new dagre.graphlib.Graph();
    g.setGraph({ rankdir: "LR", nodesep: 24, ranksep: 70, marginx: 20, marginy: 20 });
    g.setDefaultEdgeLabel(() => ({}));
    data.nodes.forEach((n) => g.setNode(n.id, { width: 40 + 7 * shorten(n.label).length, height: 34 }));
    data.edges.forEach((e) => g.setEdge(e.source, e.target));
    dagre.layout(g);
    return g;
  }

  function draw(el, data) {
    const g = layout(data);
    const size = g.graph();
    el.style.height = Math.min(Math.max(size.height + 40, 260), 900) + "px";
    const dark = window.matchMedia && window.matchMedia("(prefers-color-scheme: dark)").matches;
    const chart = echarts.init(el, dark ? "dark" : null);
    const nodes = data.nodes.map((n) => {
      const box = g.node(n.id);
      return {
        id: n.id, name: n.id, value: n.kind, x: box.x, y: box.y,
        symbol: "roundRect", symbolSize: [box.width, box.height],
        itemStyle: {
          color: COLORS[n.kind] || "#57606a",
          borderColor: n.id === data.root ? "#ffd33d" : "transparent", borderWidth: 3,
        },
        label: { show: true, formatter: shorten(n.label), color: "#fff", fontSize: 12 },
        ui: n.ui, text: n.label, kind: n.kind,
      };
    });
    const pad = Math.max(...nodes.map((n) => n.symbolSize[0])) / 2 + 10;
    const links = data.edges.map((e) => ({
      source: e.source, target: e.target, relation: e.relation,
      label: { show: true, formatter: e.relation, fontSize: 10 },
    }));
    chart.setOption({
      animation: false,
      backgroundColor: "transparent",
      tooltip: {
        formatter: (p) => (p.dataType === "edge"
          ? escapeHtml(p.data.source + " → " + p.data.target + " (" + p.data.relation + ")")
          : "<b>" + escapeHtml(p.data.text) + "</b><br>" + escapeHtml(p.data.kind.replace(/_/g, " "))
            + "<br>" + escapeHtml(p.data.id)),
      },
      series: [{
        type: "graph", layout: "none", roam: true, data: nodes, links: links,
        edgeSymbol: ["none", "arrow"], edgeSymbolSize: 8,
        lineStyle: { color: "#8c959f", width: 1.5, curveness: 0.05 },
        // the layout places node centres in this box: leave room for the widest boxes
        left: pad, right: pad, top: 30, bottom: 30,
      }],
    });
    chart.on("click", (p) => {
      if (p.dataType === "node" && p.data.ui && p.data.ui.startsWith("/") && !p.data.ui.startsWith("//")) {
        window.location.assign(p.data.ui);
      }
    });
    window.addEventListener("resize", () => chart.resize());
    el.dataset.drawn = "true";
    el.dataset.nodes = String(nodes.length);
  }

  loopml.onLoad(() => {
    document.querySelectorAll("[data-lineage]:not([data-drawn])").forEach((el) => {
      const data = loopml.data(el.dataset.lineage);
      if (!data) return;
      if (!window.echarts || !window.dagre) {
        el.textContent = "The graph needs the UI assets (run make install); the tables below list it.";
        el.dataset.drawn = "missing";
        return;
      }
      draw(el, data);
    });
  });
})();
