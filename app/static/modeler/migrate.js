/* Migrate in small batches (one request each) with a progress bar; without this file the form posts at once. */
(function () {
  "use strict";
  document.addEventListener("DOMContentLoaded", function () {
    var form = document.getElementById("migrate-form");
    if (!form) return;
    var all = document.getElementById("select-all");
    var boxes = function () { return Array.prototype.slice.call(form.querySelectorAll('input[name="instance"]')); };
    all.addEventListener("change", function () { boxes().forEach(function (b) { b.checked = all.checked; }); });
    form.addEventListener("submit", function (event) {
      var ids = boxes().filter(function (b) { return b.checked; }).map(function (b) { return parseInt(b.value, 10); });
      event.preventDefault();
      var text = document.getElementById("progress-text");
      var bar = document.getElementById("progress");
      document.getElementById("progress-box").hidden = false;
      if (!ids.length) { text.textContent = "Select at least one instance."; return; }
      var size = parseInt(form.getAttribute("data-batch"), 10) || 5;
      var token = document.querySelector('meta[name="csrf-token"]').content;
      var to = parseInt(form.querySelector('input[name="to"]').value, 10);
      var done = 0, moved = 0, refused = [];
      bar.max = ids.length; bar.value = 0;
      document.getElementById("migrate-selected").disabled = true;
      function next() {
        if (done >= ids.length) {
          text.textContent = "Moved " + moved + " of " + ids.length + " instance(s)." +
            (refused.length ? " Not moved: " + refused.join("; ") : "") + " Reloading…";
          form.setAttribute("data-finished", "true");
          setTimeout(function () { window.location.reload(); }, 800);
          return;
        }
        var batch = ids.slice(done, done + size);
        fetch(form.action, { method: "POST", credentials: "same-origin",
          headers: { "Content-Type": "application/json", "Accept": "application/json", "X-CSRFToken": token },
          body: JSON.stringify({ to: to, instances: batch }) })
          .then(function (r) { return r.json(); })
          .then(function (json) {
            moved += (json.moved || []).length;
            Object.keys(json.refused || {}).forEach(function (id) { refused.push("#" + id + ": " + json.refused[id]); });
            if (json.message) refused.push(json.message);
            done += batch.length;
            bar.value = done;
            text.textContent = done + " of " + ids.length + " checked, " + moved + " moved…";
            next();
          })
          .catch(function (e) { text.textContent = "Stopped: " + e.message; });
      }
      next();
    });
  });
})();
