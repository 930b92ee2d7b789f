// Runs table: select all, the count of selected runs, and the column finder.
"use strict";
loopml.onLoad(function (root) {
  const table = document.getElementById("runs");
  const button = document.getElementById("compare-button");
  const count = document.getElementById("selected-count");
  const boxes = () => Array.from(document.querySelectorAll('input[name="runs"][form="compare-form"]'));
  const update = () => {
    const n = boxes().filter((b) => b.checked).length;
    if (button) button.disabled = n < 2;
    if (count) count.textContent = n ? n + " selected" : "select 2 or more runs to compare";
  };
  const all = document.getElementById("select-all");
  if (all && !all.dataset.bound) {
    all.dataset.bound = "1";
    all.addEventListener("change", () => { boxes().forEach((b) => { b.checked = all.checked; }); update(); });
  }
  if (table && !table.dataset.bound) {
    table.dataset.bound = "1";
    table.addEventListener("change", update);
  }
  update();
});
// The column finder filters the chooser's key list as one types (hundreds of keys stay
// usable). Delegated from the document: the list arrives by htmx when the chooser opens.
document.addEventListener("input", (e) => {
  const find = e.target;
  if (!find.matches || !find.matches("[data-column-find]")) return;
  const form = find.closest("form") || document;
  const needle = find.value.trim().toLowerCase();
  let shown = 0;
  form.querySelectorAll(".column-option").forEach((label) => {
    const key = label.textContent.trim().toLowerCase();
    const full = label.title.toLowerCase(); // "metrics.loss": a kind prefix narrows further
    const hide = Boolean(needle) && !key.includes(needle) && !(needle.includes(".") && full.includes(needle));
    label.hidden = hide;
    if (!hide) shown += 1;
  });
  const count = form.querySelector("[data-column-count]");
  if (count) count.textContent = needle ? shown + " match" : shown + " keys";
});
