// Compare page: overlaid metric charts (uPlot), parallel coordinates and a scatter (ECharts).
// Option changes update the charts in place and the URL (so it stays shareable).
"use strict";
(function () {
  const params = () => new URLSearchParams(window.location.search);
  const setParam = (key, value) => {
    const p = params(); p.set(key, value);
    history.replaceState(history.state, "", window.location.pathname + "?" + p.toString());
  };
  const runIds = () => params().getAll("runs");
  const cache = {};

  function drawMetric(fig) {
    const key = fig.dataset.key;
    const axis = document.getElementById("axis").value;
    const weight = parseFloat(document.getElementById("smooth").value) || 0;
    const got = cache[key] || (cache[key] = fetch("/ui/api/compare/metrics/" + encodeURIComponent(key) + "?" +
      runIds().map((r) => "runs=" + encodeURIComponent(r)).join("&")).then((r) => {
      if (!r.ok) throw new Error("metric " + key + ": HTTP " + r.status);
      return r.json();
    }));
    got.then((body) => {
      const data = loopml.data("compare-data");
      const names = Object.fromEntries(data.runs.map((r) => [r.id, r.name || r.id.slice(0, 8)]));
      const tables = body.series.map((s) => {
        const xs = axis === "time" ? s.timestamps.map((t) => (t - (s.timestamps[0] || 0)) / 1000) : s.steps;
        return [xs, loopml.smooth(s.values, weight)];
      });
      const present = body.series.filter((s) => s.steps.length);
      const joined = uPlot.join(tables.filter((t, i) => body.series[i].steps.length));
      fig.querySelector(".chart-note").textContent = present.length + " runs";
      if (fig._chart) fig._chart.destroy();
      fig._chart = loopml.lineChart(fig.querySelector(".chart"), joined,
        present.map((s) => names[s.run_id]), { xLabel: axis === "time" ? "seconds" : "step" });
      fig.dataset.drawn = "1";
    }).catch((err) => { fig.querySelector(".chart-note").textContent = String(err); });
  }

  function drawAllMetrics() {
    document.querySelectorAll(".compare-chart[data-visible]").forEach(drawMetric);
  }

  function textColor() { return getComputedStyle(document.documentElement).getPropertyValue("--fg").trim(); }

  function drawParallel(data) {
    const el = document.getElementById("parallel-chart");
    if (!el || typeof echarts === "undefined") return;
    const metric = "metrics." + document.getElementById("parallel-metric").value;
    const dims = data.columns.filter((c) => c.name.startsWith("params.")).concat(data.columns.filter((c) => c.name === metric));
    if (!dims.length) return;
    const mcol = data.columns.find((c) => c.name === metric);
    const mvals = mcol ? mcol.values.filter((v) => v !== null) : [];
    const chart = echarts.getInstanceByDom(el) || echarts.init(el);
    chart.clear();
    chart.setOption({
      animation: false,
      textStyle: { color: textColor() },
      parallelAxis: dims.map((c, i) => ({
        dim: i, name: c.name.replace(/^(params|metrics)\./, ""), nameTextStyle: { color: textColor() },
        type: c.numeric ? "value" : "category",
        data: c.numeric ? undefined : Array.from(new Set(c.values.map((v) => v === null ? "(none)" : String(v)))),
      })),
      parallel: { left: 60, right: 80, top: 40, bottom: 30 },
      visualMap: mvals.length ? { min: Math.min(...mvals), max: Math.max(...mvals), dimension: dims.length - 1,
        calculable: true, precision: 4, right: 0, top: "middle", textStyle: { color: textColor() },
        inRange: { color: ["#2563eb", "#16a34a", "#f59e0b", "#dc2626"] } } : undefined,
      tooltip: { trigger: "item" },
      series: [{ type: "parallel", lineStyle: { width: 1.5, opacity: 0.7 },
        data: data.runs.map((r, i) => dims.map((c) => c.numeric ? c.values[i] : (c.values[i] === null ? "(none)" : String(c.values[i])))) }],
    });
    el.dataset.drawn = String(data.runs.length);
  }

  function drawScatter(data) {
    const el = document.getElementById("scatter-chart");
    if (!el || typeof echarts === "undefined") return;
    const xname = document.getElementById("scatter-x").value, yname = document.getElementById("scatter-y").value;
    const xc = data.columns.find((c) => c.name === xname), yc = data.columns.find((c) => c.name === yname);
    if (!xc || !yc) return;
    const points = data.runs.map((r, i) => [xc.values[i], yc.values[i], r.name || r.id.slice(0, 8)])
      .filter((p) => p[0] !== null && p[1] !== null);
    const chart = echarts.getInstanceByDom(el) || echarts.init(el);
    chart.setOption({
      animation: false,
      textStyle: { color: textColor() },
      grid: { left: 70, right: 30, top: 30, bottom: 50 },
      xAxis: { name: xname, nameLocation: "middle", nameGap: 30, scale: true },
      yAxis: { name: yname, nameLocation: "middle", nameGap: 50, scale: true },
      tooltip: { formatter: (p) => echarts.format.encodeHTML(String(p.data[2])) + "<br>" + p.data[0] + ", " + p.data[1] },
      series: [{ type: "scatter", symbolSize: 9, data: points }],
    }, true);
    el.dataset.drawn = String(points.length);
  }

  loopml.onLoad(function () {
    const data = loopml.data("compare-data");
    if (!data) return;
    if (typeof uPlot !== "undefined") {
      const seen = new IntersectionObserver((entries) => entries.forEach((e) => {
        if (e.isIntersecting) { seen.unobserve(e.target); e.target.dataset.visible = "1"; drawMetric(e.target); }
      }), { rootMargin: "200px" });
      document.querySelectorAll(".compare-chart").forEach((f) => seen.observe(f));
      const axis = document.getElementById("axis"), smooth = document.getElementById("smooth");
      if (axis) axis.addEventListener("change", () => { setParam("axis", axis.value); drawAllMetrics(); });
      if (smooth) smooth.addEventListener("input", () => {
        document.getElementById("smooth-value").textContent = smooth.value;
        setParam("smooth", smooth.value); drawAllMetrics();
      });
    }
    const pm = document.getElementById("parallel-metric");
    if (pm) pm.addEventListener("change", () => { setParam("metric", pm.value); drawParallel(data); });
    ["scatter-x", "scatter-y"].forEach((id) => {
      const sel = document.getElementById(id);
      if (sel) sel.addEventListener("change", () => { setParam(id.slice(-1), sel.value); drawScatter(data); });
    });
    drawParallel(data);
    drawScatter(data);
    window.addEventListener("resize", () => {
      ["parallel-chart", "scatter-chart"].forEach((id) => {
        const el = document.getElementById(id);
        const c = el && typeof echarts !== "undefined" && echarts.getInstanceByDom(el);
        if (c) c.resize();
      });
    });
  });
})();
