// Admin › Data › Token-history import: refuses a file over the size limit before uploading it, and
// follows a running import by polling its job run; reloads when it ends so the server renders
// the summary. No framework, no inline script (the CSP forbids it).
(function () {
  "use strict";
  var input = document.querySelector("[data-import-upload] input[type=file]");
  var note = document.querySelector("[data-import-file-error]");
  var submit = document.querySelector("[data-import-preview]");
  if (input && note && submit) {
    input.addEventListener("change", function () {
      var max = parseInt(input.dataset.maxBytes, 10) || 0;
      var file = input.files && input.files[0];
      var tooBig = Boolean(file && max && file.size > max);
      note.textContent = tooBig ? "This file is too big: the limit is " + max.toLocaleString() + " bytes." : "";
      submit.disabled = tooBig;
    });
  }

  var block = document.querySelector("[data-import-poll]");
  if (!block || !window.fetch) return;
  var bar = block.querySelector("[data-import-progress]");
  var phase = block.querySelector("[data-import-phase]");
  var status = block.querySelector("[data-import-run-status]");

  function poll() {
    fetch(block.dataset.importPoll, { headers: { Accept: "application/json" }, credentials: "same-origin" })
      .then(function (response) { return response.ok ? response.json() : null; })
      .then(function (run) {
        if (!run) return setTimeout(poll, 3000);
        if (status) status.textContent = run.status;
        if (run.progress && bar) {
          bar.max = Math.max(1, run.progress.total);
          bar.value = run.progress.done;
          if (phase) {
            phase.textContent = run.progress.phase + ": " + run.progress.done.toLocaleString() + " of " +
              run.progress.total.toLocaleString();
          }
        }
        if (run.finished) { window.location.reload(); return; }
        setTimeout(poll, 700);
      })
      .catch(function () { setTimeout(poll, 3000); });
  }

  poll();
})();
