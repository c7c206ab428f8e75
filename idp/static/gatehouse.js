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

// A form that carries an answer to an application (OAuth 2.0 form_post) goes by itself. Its
// button, for browsers without JavaScript, is hidden: the code in the form is single-use, and
// a second post while the app answers the first would make Gatehouse revoke what it gave. A
// page brought back by Back asks Gatehouse afresh.
document.addEventListener("DOMContentLoaded", function () {
  const form = document.querySelector("form[data-submits-itself]");
  if (!form) return;
  form.querySelectorAll("[data-without-script]").forEach(function (part) {
    part.hidden = true;
  });
  form.submit();
});
window.addEventListener("pageshow", function (event) {
  if (event.persisted && document.querySelector("form[data-submits-itself]")) {
    window.location.reload();
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
