// ECharts on the models, deployments, monitoring and data pages. Each element
// <div class="chart" data-echart="ID"> draws the ECharts option the server put in
// <script type="application/json" id="ID">; the option is plain data (no functions).
"use strict";
(function () {
  const dark = () => window.matchMedia && window.matchMedia("(prefers-color-scheme: dark)").matches;
  // After an htmx swap the event's target may be the element swapped out, so look at the
  // whole document and draw each chart element not drawn yet (a swapped-in one is new).
  function draw() {
    if (!window.echarts) return;
    document.querySelectorAll("[data-echart]:not([data-drawn])").forEach((el) => {
      const option = loopml.data(el.dataset.echart);
      if (!option) return;
      const chart = echarts.init(el, dark() ? "dark" : null);
      option.backgroundColor = "transparent";
      chart.setOption(option);
      el.dataset.drawn = "true";
    });
  }
  loopml.onLoad(draw);
  // A page restored from htmx's history cache holds blank canvases: draw them again.
  document.addEventListener("htmx:historyRestore", () => {
    document.querySelectorAll("[data-echart][data-drawn]").forEach((el) => {
      el.removeAttribute("data-drawn");
      el.removeAttribute("_echarts_instance_");
      el.replaceChildren();
    });
    draw();
  });
  window.addEventListener("resize", () => {
    if (!window.echarts) return;
    document.querySelectorAll("[data-echart]").forEach((el) => {
      const chart = echarts.getInstanceByDom(el);
      if (chart) chart.resize();
    });
  });
})();
