// People search as you type: a short pause after typing submits the (server-rendered) search.
(function () {
  "use strict";
  var input = document.querySelector("[data-people-search]");
  if (!input || !input.form) return;
  if (input.autofocus) {  // back after a search: keep typing where the cursor was
    input.focus();
    input.setSelectionRange(input.value.length, input.value.length);
  }
  var timer = null;
  input.addEventListener("input", function () {
    clearTimeout(timer);
    timer = setTimeout(function () { input.form.requestSubmit(); }, 350);
  });
})();
