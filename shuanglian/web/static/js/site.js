// shuanglian: small progressive enhancements; every page works without this file.
(function () {
  "use strict";
  // Big screen: rotate the featured cards (no interaction needed at an exhibition).
  function rotate(container) {
    var cards = container.querySelectorAll(".screen-card");
    if (cards.length < 2) return;
    var delay = parseInt(container.getAttribute("data-rotate"), 10) || 8000;
    var i = 0;
    setInterval(function () {
      cards[i].classList.remove("active");
      i = (i + 1) % cards.length;
      cards[i].classList.add("active");
    }, delay);
  }
  // Without HTMX the big screen reloads itself so the figures stay live.
  function refreshWithoutHtmx() {
    if (document.body.classList.contains("screen") && !window.htmx) {
      setTimeout(function () { window.location.reload(); }, 60000);
    }
  }
  // Upload fields: a file over the server's limit is refused here, beside the field, instead
  // of after minutes of sending it (the server refuses it too, with 413).
  function guardUpload(input) {
    var max = parseInt(input.getAttribute("data-max-bytes"), 10);
    if (!max || !input.form) return;
    input.form.addEventListener("submit", function (event) {
      var file = input.files && input.files[0];
      var note = input.parentNode.querySelector(".size-error");
      if (file && file.size > max) {
        event.preventDefault();
        if (!note) {
          note = document.createElement("p");
          note.className = "field-error size-error";
          note.setAttribute("role", "alert");
          input.parentNode.appendChild(note);
        }
        note.textContent = input.getAttribute("data-too-large");
        input.setAttribute("aria-invalid", "true");
      } else if (note) {
        note.parentNode.removeChild(note);
      }
    });
  }
  // Long jobs (push rounds, grading): the form says it is working and cannot be sent twice.
  function markBusy(form) {
    form.addEventListener("submit", function () {
      var note = form.querySelector(".busy");
      if (note) note.hidden = false;
      form.querySelectorAll("button[type=submit]").forEach(function (b) {
        // Disabled after this event, so the clicked button's own value is still sent.
        setTimeout(function () { b.disabled = true; }, 0);
      });
      form.setAttribute("aria-busy", "true");
    });
  }
  // Destructive buttons ask first (the server checks again; this only avoids a slip).
  function confirmFirst(form) {
    form.addEventListener("submit", function (event) {
      if (!window.confirm(form.getAttribute("data-confirm"))) event.preventDefault();
    });
  }
  // Browsers without ::details-content hide a closed <details> whatever the CSS says: open
  // the catalogue's filters where the screen is wide enough to show them.
  function openWideFilters(details) {
    if (window.matchMedia && window.matchMedia("(min-width: 700px)").matches) details.open = true;
  }
  // Share links: copy to the clipboard; without the clipboard API the text is selected so
  // the visitor can copy it themselves (the field is readonly and always shown).
  function copyButton(button) {
    var field = document.querySelector(button.getAttribute("data-copy"));
    if (!field) return;
    button.addEventListener("click", function () {
      field.select();
      var done = function () { button.textContent = button.getAttribute("data-copied"); };
      if (navigator.clipboard && window.isSecureContext) {
        navigator.clipboard.writeText(field.value).then(done, function () {});
      } else if (document.execCommand && document.execCommand("copy")) {
        done();
      }
    });
  }
  document.addEventListener("DOMContentLoaded", function () {
    document.querySelectorAll("button[data-copy]").forEach(copyButton);
    document.querySelectorAll("details.more-filters").forEach(openWideFilters);
    document.querySelectorAll("form[data-busy]").forEach(markBusy);
    document.querySelectorAll("form[data-confirm]").forEach(confirmFirst);
    document.querySelectorAll("input[type=file][data-max-bytes]").forEach(guardUpload);
    document.querySelectorAll("[data-rotate]").forEach(rotate);
    refreshWithoutHtmx();
  });
})();
