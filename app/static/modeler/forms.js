/* Live preview of a form while its JSON Schema / UI schema are typed (the server renders the task form). */
(function () {
  "use strict";
  document.addEventListener("DOMContentLoaded", function () {
    var form = document.getElementById("form-editor");
    if (!form) return;
    var token = document.querySelector('meta[name="csrf-token"]').content;
    var state = document.getElementById("preview-state");
    var timer = null, sequence = 0;
    function refresh() {
      var mine = ++sequence;
      state.textContent = "updating…";
      var body = new URLSearchParams();
      body.set("schema", document.getElementById("schema").value);
      body.set("ui", document.getElementById("ui").value);
      fetch(form.getAttribute("data-preview"), { method: "POST", credentials: "same-origin", body: body,
        headers: { "X-CSRFToken": token, "Accept": "text/html" } })
        .then(function (r) { return r.text(); })
        .then(function (html) {
          if (mine !== sequence) return;
          document.getElementById("preview").innerHTML = html;  // rendered and escaped by the server
          state.textContent = "";
        })
        .catch(function (e) { state.textContent = "preview unavailable (" + e.message + ")"; });
    }
    ["schema", "ui"].forEach(function (id) {
      document.getElementById(id).addEventListener("input", function () {
        clearTimeout(timer);
        timer = setTimeout(refresh, 300);
      });
    });
  });
})();
