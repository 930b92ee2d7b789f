// Shared uPlot line charts for the run and compare pages.
"use strict";
window.loopml = window.loopml || {};
(function () {
  const css = (name) => getComputedStyle(document.documentElement).getPropertyValue(name).trim();
  // Distinct colours for many series: the golden angle around the hue circle.
  loopml.color = (i) => `hsl(${(i * 137.508) % 360}, 65%, 50%)`;
  // TensorBoard-style exponential smoothing; gaps (null) stay gaps.
  loopml.smooth = function (values, weight) {
    if (!weight) return values;
    let acc = 0, n = 0;
    return values.map((v) => {
      if (v === null || v === undefined) return v;
      acc = acc * weight + (1 - weight) * v;
      n += 1;
      return acc / (1 - Math.pow(weight, n)); // debiased, as TensorBoard does
    });
  };
  loopml.lineChart = function (el, data, labels, opts) {
    opts = opts || {};
    const axis = { stroke: css("--muted"), grid: { stroke: css("--border"), width: 1 }, ticks: { stroke: css("--border") } };
    const width = Math.max(280, el.clientWidth || 480);
    const options = {
      width: width,
      height: opts.height || 240,
      scales: { x: { time: !!opts.time } },
      axes: [Object.assign({ label: opts.xLabel || "step" }, axis), axis],
      legend: { show: labels.length <= 20 },
      cursor: { drag: { x: true, y: false } },
      series: [{ label: opts.xLabel || "step" }].concat(labels.map((label, i) => ({
        label: label, stroke: loopml.color(i), width: 1.5, spanGaps: true, points: { show: false },
      }))),
      hooks: opts.hooks || {},
    };
    el.textContent = "";
    const chart = new uPlot(options, data, el);
    if (window.ResizeObserver) {
      new ResizeObserver(() => chart.setSize({ width: Math.max(280, el.clientWidth), height: options.height })).observe(el);
    }
    return chart;
  };
})();
