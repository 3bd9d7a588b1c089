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
  document.addEventListener("DOMContentLoaded", function () {
    document.querySelectorAll("[data-rotate]").forEach(rotate);
    refreshWithoutHtmx();
  });
})();
