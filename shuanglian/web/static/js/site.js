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
  document.addEventListener("DOMContentLoaded", function () {
    document.querySelectorAll("input[type=file][data-max-bytes]").forEach(guardUpload);
    document.querySelectorAll("[data-rotate]").forEach(rotate);
    refreshWithoutHtmx();
  });
})();
