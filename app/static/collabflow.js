/* collabflow: small progressive enhancements. Every page works without this file. */
(function () {
  "use strict";

  function renumber(list) {
    list.querySelectorAll(":scope > [data-row]").forEach(function (row, i) {
      var heading = row.querySelector("[data-row-number]");
      if (heading) heading.textContent = heading.textContent.replace(/\s*\d*$/, " " + (i + 1));
    });
  }

  function nextIndex(list, name) {
    var max = -1;
    list.querySelectorAll('input[name="' + name + '.__row"]').forEach(function (input) {
      var n = parseInt(input.value, 10);
      if (!isNaN(n) && n > max) max = n;
    });
    return max + 1;
  }

  document.addEventListener("click", function (event) {
    var add = event.target.closest("[data-add-row]");
    if (add) {
      var name = add.getAttribute("data-add-row");
      var list = document.querySelector('[data-rows="' + CSS.escape(name) + '"]');
      var template = document.querySelector('template[data-row-template="' + CSS.escape(name) + '"]');
      if (!list || !template) return;
      event.preventDefault();
      var html = template.innerHTML.split("__index__").join(String(nextIndex(list, name)));
      list.insertAdjacentHTML("beforeend", html);
      renumber(list);
      var first = list.lastElementChild.querySelector("input:not([type=hidden]), select, textarea");
      if (first) first.focus();
      return;
    }
    var remove = event.target.closest("[data-remove-row]");
    if (remove) {
      var row = remove.closest("[data-row]");
      var rows = row && row.parentElement;
      if (!row) return;
      event.preventDefault();
      var focusTarget = rows.closest(".field").querySelector("[data-add-row]");
      row.remove();
      renumber(rows);
      if (focusTarget) focusTarget.focus();
      return;
    }
    var clear = event.target.closest("[data-clear-evidence]");
    if (clear) {
      event.preventDefault();
      var field = clear.closest(".field");
      field.querySelector("[data-evidence-id]").value = "";
      field.querySelector("[data-evidence-current]").remove();
    }
  });

  document.addEventListener("DOMContentLoaded", function () {
    var summary = document.getElementById("error-summary");
    if (summary) summary.focus();
    document.querySelectorAll(".diagram[data-xml]").forEach(drawDiagram);
  });

  /* Zoom buttons ([data-zoom] = in / out / fit) and drag-to-pan for a bpmn-js viewer's canvas; also used by the
     workbench's viewer (modeler/viewer.js), which loads after this file. */
  function enableZoom(container, canvas) {
    container.querySelectorAll("[data-zoom]").forEach(function (button) {
      button.addEventListener("click", function () {
        var how = button.getAttribute("data-zoom");
        if (how === "fit") { canvas.zoom("fit-viewport", "auto"); return; }
        canvas.zoom(canvas.zoom() * (how === "in" ? 1.25 : 0.8), "auto");
      });
    });
    var svg = container.querySelector(".djs-container");
    var dragging = null;  // drag to pan: the viewer has no mouse navigation of its own
    svg.addEventListener("pointerdown", function (e) { dragging = { x: e.clientX, y: e.clientY }; });
    window.addEventListener("pointerup", function () { dragging = null; });
    svg.addEventListener("pointermove", function (e) {
      if (!dragging) return;
      canvas.scroll({ dx: e.clientX - dragging.x, dy: e.clientY - dragging.y });
      dragging = { x: e.clientX, y: e.clientY };
    });
  }

  window.collabflow = Object.assign(window.collabflow || {}, { enableZoom: enableZoom });

  function drawDiagram(container) {
    var status = container.querySelector(".diagram-status");
    if (typeof window.BpmnJS !== "function") { if (status) status.textContent = "The diagram viewer did not load."; return; }
    var viewer = new window.BpmnJS({ container: container.querySelector(".canvas") });
    var active = JSON.parse(container.getAttribute("data-active") || "[]");
    var completed = JSON.parse(container.getAttribute("data-completed") || "[]");
    fetch(container.getAttribute("data-xml"), { credentials: "same-origin" })
      .then(function (response) { if (!response.ok) throw new Error(response.status); return response.text(); })
      .then(function (xml) { return viewer.importXML(xml); })
      .then(function () {
        var canvas = viewer.get("canvas");
        canvas.zoom("fit-viewport", "auto");
        var registry = viewer.get("elementRegistry");
        completed.forEach(function (id) { if (registry.get(id)) canvas.addMarker(id, "cf-done"); });
        active.forEach(function (id) { if (registry.get(id)) canvas.addMarker(id, "cf-active"); });
        container.classList.add("ready");
        container.setAttribute("data-drawn", "true");
        enableZoom(container, canvas);
      })
      .catch(function (error) {
        if (status) status.textContent = "This diagram cannot be drawn (" + (error.message || error) + ").";
        container.setAttribute("data-drawn", "error");
      });
  }
})();
