// Small upgrades for browsers with JavaScript; every page works without them.
"use strict";

// A link that names a <dialog> opens it in place (without JavaScript the link opens a page
// with the same form).
document.addEventListener("click", function (event) {
  const opener = event.target.closest("[data-opens-dialog]");
  if (opener) {
    const dialog = document.getElementById(opener.dataset.opensDialog);
    if (dialog && typeof dialog.showModal === "function") {
      event.preventDefault();
      dialog.showModal();
      const field = dialog.querySelector("input:not([hidden])");
      if (field) field.focus();
    }
    return;
  }
  const closer = event.target.closest("[data-closes-dialog]");
  if (closer) {
    const dialog = closer.closest("dialog");
    if (dialog) dialog.close();
  }
});

// Buttons that need JavaScript stay hidden without it.
function showScriptButtons(root) {
  root.querySelectorAll("[data-copies], [data-prints]").forEach(function (button) {
    button.hidden = false;
  });
}
document.addEventListener("DOMContentLoaded", function () { showScriptButtons(document); });
document.addEventListener("htmx:load", function (event) { showScriptButtons(event.target); });

// Copy the text of the element a button names by a selector (recovery codes: one per line).
document.addEventListener("click", function (event) {
  const button = event.target.closest("[data-copies]");
  if (!button) return;
  const source = document.querySelector(button.dataset.copies);
  if (!source) return;
  const lines = Array.from(source.querySelectorAll("li")).map(function (item) {
    return item.textContent.trim();
  });
  const text = lines.length ? lines.join("\n") : source.textContent.trim();
  navigator.clipboard.writeText(text).then(function () {
    const notice = button.parentElement.querySelector("[data-copied-notice]");
    if (notice) notice.hidden = false;
  });
});

document.addEventListener("click", function (event) {
  if (event.target.closest("[data-prints]")) window.print();
});

// A flow's page names its step in the address (as the server's redirects do without
// JavaScript), so the browser's Back returns to the step before, which htmx asks the server
// for again (no page is kept in the browser's storage).
function nameTheStep() {
  const stage = document.querySelector("#stage[data-step-url]");
  if (!stage) return;
  const step = new URL(stage.dataset.stepUrl, window.location.href).searchParams.get("step");
  const search = window.location.search;
  if (!step || new URLSearchParams(search).get("step") === step) return;
  // The rest of the address stays exactly as it was (URLSearchParams would re-encode it).
  const named = /[?&]step=/.test(search)
    ? search.replace(/([?&]step=)[^&]*/, "$1" + step)
    : (search ? search + "&" : "?") + "step=" + step;
  history.replaceState(history.state, "", window.location.pathname + named + window.location.hash);
}
document.addEventListener("DOMContentLoaded", nameTheStep);
document.addEventListener("htmx:historyRestore", nameTheStep);
