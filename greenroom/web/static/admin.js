// Admin › Data: follows running data tools by polling their JSON status; reloads the page when one
// finishes so the server renders its result. No framework, no inline script (the CSP forbids it).
(function () {
  "use strict";
  var blocks = document.querySelectorAll("[data-run-poll]");
  if (!blocks.length || !window.fetch) return;

  function poll(block) {
    fetch(block.dataset.runPoll, { headers: { Accept: "application/json" }, credentials: "same-origin" })
      .then(function (response) { return response.ok ? response.json() : null; })
      .then(function (run) {
        if (!run) return setTimeout(function () { poll(block); }, 3000);
        var status = block.querySelector("[data-run-status]");
        if (status) status.textContent = run.status;
        var bar = block.querySelector("[data-run-progress]");
        var phase = block.querySelector("[data-run-phase]");
        if (run.progress && bar) {
          bar.max = Math.max(1, run.progress.total);
          bar.value = run.progress.done;
          if (phase) phase.textContent = run.progress.phase + ": " + run.progress.done + " of " + run.progress.total;
        }
        if (run.finished) { window.location.reload(); return; }
        setTimeout(function () { poll(block); }, 1000);
      })
      .catch(function () { setTimeout(function () { poll(block); }, 3000); });
  }

  blocks.forEach(poll);
})();
