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
  const find = document.querySelector("[data-column-find]");
  if (find && !find.dataset.bound) {
    find.dataset.bound = "1";
    find.addEventListener("input", () => {
      const needle = find.value.toLowerCase();
      document.querySelectorAll(".column-option").forEach((label) => {
        label.hidden = needle && !label.textContent.toLowerCase().includes(needle);
      });
    });
  }
  update();
});
