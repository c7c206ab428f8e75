// A flow's page names its step in the address (as the server's redirects do without
// JavaScript), so the browser's Back returns to the step before, which htmx asks the server
// for again (no page is kept in the browser's storage).
//
// Loaded in the page's head and not deferred: the address is named before anything on the
// page can be clicked. A deferred script could run too late, after a quick answer had
// already left the page, whose history entry would then keep the flow's bare address (which
// shows the current step).
(function () {
  function nameTheStep(stepUrl) {
    const step = new URL(stepUrl, window.location.href).searchParams.get("step");
    const search = window.location.search;
    if (!step || new URLSearchParams(search).get("step") === step) return;
    // The rest of the address stays exactly as it was (URLSearchParams would re-encode it).
    const named = /[?&]step=/.test(search)
      ? search.replace(/([?&]step=)[^&]*/, "$1" + step)
      : (search ? search + "&" : "?") + "step=" + step;
    history.replaceState(history.state, "", window.location.pathname + named + window.location.hash);
  }

  const meta = document.querySelector('meta[name="step-url"]');
  if (meta) nameTheStep(meta.content);
  // htmx put back a step the server sent again: the step it shows is named on its frame.
  document.addEventListener("htmx:historyRestore", function () {
    const stage = document.querySelector("#stage[data-step-url]");
    if (stage) nameTheStep(stage.dataset.stepUrl);
  });
})();
