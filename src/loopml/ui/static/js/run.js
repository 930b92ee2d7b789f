// Run page: one chart per metric, loaded when it scrolls into view; drag to zoom loads
// the exact points of that step range, double-click goes back to the whole series.
"use strict";
(function () {
  const url = (fig, range) => {
    let u = "/ui/api/runs/" + encodeURIComponent(fig.dataset.run) + "/metrics/" + encodeURIComponent(fig.dataset.key);
    if (range) u += "?min_step=" + Math.floor(range[0]) + "&max_step=" + Math.ceil(range[1]);
    return u;
  };
  const load = (fig, range) => fetch(url(fig, range)).then((r) => {
    if (!r.ok) throw new Error("metric " + fig.dataset.key + ": HTTP " + r.status);
    return r.json();
  });
  const note = (fig, s) => {
    fig.querySelector(".chart-note").textContent = s.downsampled
      ? `${s.total} points, ${s.steps.length} shown (min/max per bucket)` : `${s.total} points`;
  };
  function draw(fig) {
    if (fig.dataset.drawn) return;
    fig.dataset.drawn = "1";
    load(fig).then((full) => {
      note(fig, full);
      const el = fig.querySelector(".chart");
      let zooming = false;
      const chart = loopml.lineChart(el, [full.steps, full.values], [fig.dataset.key], {
        hooks: {
          setSelect: [(u) => {
            if (u.select.width < 2) return;
            const lo = u.posToVal(u.select.left, "x"), hi = u.posToVal(u.select.left + u.select.width, "x");
            zooming = true;
            load(fig, [lo, hi]).then((part) => {
              note(fig, part);
              u.setData([part.steps, part.values], false);
              u.setScale("x", { min: lo, max: hi });
              fig.dataset.zoomed = part.downsampled ? "thinned" : "exact";
            });
          }],
        },
      });
      chart.over.addEventListener("dblclick", () => {
        note(fig, full);
        chart.setData([full.steps, full.values]);
        delete fig.dataset.zoomed;
      });
      fig.dataset.points = String(full.steps.length);
    }).catch((err) => { fig.querySelector(".chart-note").textContent = String(err); });
  }
  loopml.onLoad(function () {
    const figures = document.querySelectorAll(".metric-chart");
    if (!figures.length || typeof uPlot === "undefined") return;
    if (!window.IntersectionObserver) { figures.forEach(draw); return; }
    const seen = new IntersectionObserver((entries) => entries.forEach((e) => {
      if (e.isIntersecting) { seen.unobserve(e.target); draw(e.target); }
    }), { rootMargin: "200px" });
    figures.forEach((f) => seen.observe(f));
  });
})();
