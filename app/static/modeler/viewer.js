/* Workbench viewer: draw a diagram read-only and mark elements (problems, diff). No inline script (CSP). */
(function () {
  "use strict";

  /* Bytes -> text in the encoding the XML declaration names (files from other tools may be ISO-8859-1). */
  function decode(buffer) {
    var head = new TextDecoder("latin1").decode(new Uint8Array(buffer, 0, Math.min(200, buffer.byteLength)));
    var named = /^\s*<\?xml[^>]*encoding=["']([A-Za-z0-9._-]+)["']/.exec(head);
    try { return new TextDecoder(named ? named[1] : "utf-8").decode(buffer); }
    catch (e) { return new TextDecoder("utf-8").decode(buffer); }
  }

  function draw(container) {
    var status = container.querySelector(".diagram-status");
    if (typeof window.BpmnJS !== "function") { status.textContent = "The diagram viewer did not load."; return; }
    var viewer = new window.BpmnJS({ container: container.querySelector(".canvas") });
    var markers = JSON.parse(container.getAttribute("data-markers") || "{}");
    fetch(container.getAttribute("data-xml"), { credentials: "same-origin" })
      .then(function (r) { if (!r.ok) throw new Error("HTTP " + r.status); return r.arrayBuffer(); })
      .then(decode)
      .then(function (xml) { return viewer.importXML(xml); })
      .then(function () {
        var canvas = viewer.get("canvas");
        var registry = viewer.get("elementRegistry");
        canvas.zoom("fit-viewport", "auto");
        var marked = [];
        Object.keys(markers).forEach(function (id) {
          if (registry.get(id)) { canvas.addMarker(id, markers[id]); marked.push(id); }
        });
        container.setAttribute("data-marked", marked.join(" "));
        container.classList.add("ready");
        container.setAttribute("data-drawn", "true");
        window.collabflow.enableZoom(container, canvas);  // collabflow.js, loaded on every page
      })
      .catch(function (error) {
        status.textContent = "This diagram cannot be drawn (" + (error.message || error) + ").";
        container.setAttribute("data-drawn", "error");
      });
  }

  document.addEventListener("DOMContentLoaded", function () {
    document.querySelectorAll(".cf-viewer[data-xml]").forEach(draw);
  });
})();
