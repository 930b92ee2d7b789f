// Shared page behaviour. Pages pass data in <script type="application/json"> blocks
// (no inline scripts: the Content-Security-Policy allows scripts from this server only).
"use strict";
window.loopml = window.loopml || {};
loopml.data = function (id) {
  const el = document.getElementById(id);
  return el ? JSON.parse(el.textContent) : null;
};
// Charts re-run their setup after an htmx swap; each page script registers with onLoad.
loopml.onLoad = function (fn) {
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", () => fn(document));
  else fn(document);
  document.addEventListener("htmx:afterSettle", (e) => fn(e.target));
};
// Forms marked data-confirm ask before submitting (e.g. promote / rollback).
document.addEventListener("submit", (e) => {
  const msg = e.target.getAttribute && e.target.getAttribute("data-confirm");
  if (msg && !window.confirm(msg)) e.preventDefault();
});
