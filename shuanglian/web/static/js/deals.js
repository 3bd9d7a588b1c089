// Deals forms: pickers that search as you type, and a type choice that reloads the form.
// Every form works without this file (the server resolves names and lists the choices).
(function () {
  "use strict";
  function idOf(text) {
    var m = /#(\d+)\)?\s*$/.exec(text || "");
    return m ? m[1] : "";
  }
  function picker(input) {
    var list = document.getElementById(input.getAttribute("list"));
    if (!list) return;
    var timer = null;
    input.addEventListener("input", function () {
      clearTimeout(timer);
      timer = setTimeout(function () {
        var url = input.getAttribute("data-lookup");
        url += (url.indexOf("?") < 0 ? "?" : "&") + "q=" + encodeURIComponent(input.value);
        var scope = input.getAttribute("data-lookup-scope");
        if (scope) {
          var owner = document.getElementById(scope);
          var id = owner ? idOf(owner.value) : "";
          if (id) url += "&institution_id=" + id;
        }
        fetch(url, { credentials: "same-origin", headers: { Accept: "application/json" } })
          .then(function (r) { return r.ok ? r.json() : []; })
          .then(function (items) {
            list.textContent = "";
            items.forEach(function (item) {
              var option = document.createElement("option");
              option.value = item.label;
              list.appendChild(option);
            });
          })
          .catch(function () { /* keep the options there are */ });
      }, 200);
    });
  }
  document.addEventListener("DOMContentLoaded", function () {
    document.querySelectorAll("input[data-lookup][list]").forEach(picker);
    document.querySelectorAll("select[data-autosubmit]").forEach(function (select) {
      var button = select.form && select.form.querySelector("button[type=submit]");
      if (button) button.style.display = "none";
      select.addEventListener("change", function () { select.form.submit(); });
    });
  });
})();
