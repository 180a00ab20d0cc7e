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
      return;
    }
    /* [data-copy="#input"]: copy that field's text (a calendar feed's address); selected too, for Ctrl+C */
    var copy = event.target.closest("[data-copy]");
    if (copy) {
      var source = document.querySelector(copy.getAttribute("data-copy"));
      if (!source) return;
      source.select();
      var done = function () { copy.textContent = "Copied"; };
      if (navigator.clipboard && window.isSecureContext) {
        navigator.clipboard.writeText(source.value).then(done, function () { copy.textContent = "Press Ctrl+C"; });
      } else {
        copy.textContent = "Press Ctrl+C";
      }
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

  /* What the diagram modeller and the decision table editor share: the status line, building elements, posting to
     the workbench's JSON endpoints, save draft / validate / deploy, and never losing work (a leave-page warning
     while edits are unsaved, Ctrl+S / Cmd+S, autosave of the draft a few seconds after the last change, the page's
     header refreshed after a deploy). `o.xml()` gives the file's text, `o.showProblems(problems, heading)` lists and
     marks them, `o.marked` names what is marked ("elements", "cells"). The root's `data-autosave-ms` sets the
     autosave delay (0: no autosave); `data-page-url` is the editor's own address, fetched again after a deploy. */
  function workbench(o) {
    var root = o.root, statusLine = o.statusLine;
    var token = (document.querySelector('meta[name="csrf-token"]') || {}).content;
    var autosaveMs = parseInt(root.getAttribute("data-autosave-ms") || "3000", 10);
    var dirty = false, edits = 0, saving = null, working = false, timer = null, saidSave = false;

    function say(text, kind) {
      statusLine.textContent = text;
      statusLine.className = "status-line" + (kind ? " " + kind : "");
      saidSave = false;
    }

    function h(tag, attrs, children) {
      var node = document.createElement(tag);
      Object.keys(attrs || {}).forEach(function (key) {
        var value = attrs[key];
        if (value === undefined || value === null || value === false) return;
        if (key === "text") node.textContent = value;
        else if (key.slice(0, 2) === "on") node.addEventListener(key.slice(2), value);
        else if (key === "value") node.value = value;
        else node.setAttribute(key, value === true ? "" : value);
      });
      (children || []).forEach(function (child) {
        if (child) node.appendChild(typeof child === "string" ? document.createTextNode(child) : child);
      });
      return node;
    }

    function post(url, body) {
      return fetch(url, {
        method: "POST", credentials: "same-origin", body: JSON.stringify(body),
        headers: { "Content-Type": "application/json", "Accept": "application/json", "X-CSRFToken": token }
      }).then(function (response) {
        return response.json().catch(function () { return { message: "HTTP " + response.status }; })
          .then(function (json) { return { status: response.status, body: json }; });
      });
    }

    function busy(on) {
      working = on;
      ["save-draft", "validate", "deploy"].forEach(function (id) { document.getElementById(id).disabled = on; });
    }

    /* The toolbar's save state: "unsaved changes" while dirty, else the time of the last save (if any). */
    function showState(text) {
      var state = document.getElementById("dirty");
      state.textContent = text || "";
      state.hidden = !text;
    }

    function setDirty(on) {
      dirty = !!on;
      if (dirty) {
        edits++;
        showState("unsaved changes");
        schedule();
      } else {
        clearTimeout(timer);
        showState("");
      }
    }

    function schedule() {
      clearTimeout(timer);
      if (autosaveMs > 0) timer = setTimeout(autosave, autosaveMs);
    }

    function autosave() {
      if (!dirty) return;
      if (working || saving) { schedule(); return; }  // a save, validation or deploy is running: try again later
      saveDraft({ auto: true });
    }

    function clock(date) {
      return ("0" + date.getHours()).slice(-2) + ":" + ("0" + date.getMinutes()).slice(-2);
    }

    /* Save the draft. An autosave ({auto: true}) keeps the buttons free and only takes over the status line when
       it showed nothing else (a validation's verdict stays). Resolves true once saved. */
    function saveDraft(options) {
      var auto = !!(options && options.auto);
      if (saving) return saving;
      clearTimeout(timer);
      var at = edits;
      if (!auto) { busy(true); say("Saving your draft…"); }
      saving = o.xml().then(function (text) { return post(root.getAttribute("data-draft-url"), { xml: text, auto: auto }); })
        .then(function (r) {
          if (r.status !== 200) {
            say((auto ? "Autosave failed: " : "Not saved: ") + (r.body.message || r.status), "bad");
            return false;
          }
          var message = "Draft saved " + clock(new Date()) + ".";
          if (edits === at) { dirty = false; showState(message); } else { schedule(); }
          document.getElementById("source").textContent = "your draft (saved just now)";
          if (!auto || !statusLine.textContent || saidSave) { say(message, "ok"); saidSave = true; }
          var head = document.getElementById("editor-head");
          if (head && head.getAttribute("data-draft") !== "yes") return refreshHead().then(function () { return true; });
          return true;
        }).catch(function (e) { say("Not saved: " + e.message, "bad"); return false; })
        .finally(function () { saving = null; if (!auto) busy(false); });
      return saving;
    }

    function validate() {
      busy(true); say("Validating with the latest version's files…");
      return o.xml().then(function (text) { return post(root.getAttribute("data-validate-url"), { xml: text }); })
        .then(function (r) {
          if (r.status !== 200) { say("Could not validate: " + (r.body.message || r.status), "bad"); return; }
          var errors = r.body.problems.filter(function (p) { return p.severity === "error"; });
          o.showProblems(r.body.problems, errors.length ? errors.length + " error(s)" : "Warnings");
          say(errors.length ? "Validation found " + errors.length + " error(s): see the list and the marked " + o.marked + "." :
              "Valid: no errors" + (r.body.problems.length ? " (" + r.body.problems.length + " warning(s))" : "") + ".",
              errors.length ? "bad" : "ok");
        }).catch(function (e) { say("Could not validate: " + e.message, "bad"); }).finally(function () { busy(false); });
    }

    /* After a deploy, or the first save of a draft, the header (version shown, latest version, the draft notice and
       its discard button, the drafts) is the server's again: fetch this editor's page and put its header in place
       of ours, without reloading the canvas. */
    function refreshHead() {
      var url = root.getAttribute("data-page-url");
      var here = document.getElementById("editor-head");
      if (!url || !here) return Promise.resolve();
      return fetch(url, { credentials: "same-origin", headers: { "Accept": "text/html" } })
        .then(function (r) { if (!r.ok) throw new Error("HTTP " + r.status); return r.text(); })
        .then(function (html) {
          var fresh = new DOMParser().parseFromString(html, "text/html").getElementById("editor-head");
          if (fresh) here.replaceWith(document.importNode(fresh, true));
          if (window.history && location.search) history.replaceState(null, "", url);
        }).catch(function () { /* the old header stays; the status line has said what was deployed */ });
    }

    function deploy() {
      var message = document.getElementById("deploy-message");
      if (!message.value.trim()) { say("Say what changed in the deploy message first.", "bad"); message.focus(); return; }
      clearTimeout(timer);  // the deploy takes this text: no autosave may bring a draft back after it
      busy(true); say("Deploying…");
      var at = edits;
      return (saving || Promise.resolve()).then(o.xml)
        .then(function (text) { return post(root.getAttribute("data-deploy-url"), { xml: text, message: message.value }); })
        .then(function (r) {
          if (r.status === 200 && r.body.ok) {
            if (edits === at) setDirty(false); else schedule();
            o.showProblems(r.body.problems, "Warnings");
            statusLine.textContent = "";
            statusLine.className = "status-line ok";
            saidSave = false;
            statusLine.appendChild(document.createTextNode("Deployed version " + r.body.version_id + ". "));
            statusLine.appendChild(h("a", { href: r.body.url, text: "See the version history" }));
            document.getElementById("source").textContent = "version " + r.body.version_id;
            message.value = "";
            return refreshHead();
          }
          if (dirty) schedule();
          if (r.body.problems) {
            o.showProblems(r.body.problems, "Deploy refused");
            say("Deploy refused: nothing changed. Fix the problems listed below.", "bad");
          } else {
            say("Deploy refused: " + (r.body.message || r.status), "bad");
          }
        }).catch(function (e) { say("Could not deploy: " + e.message, "bad"); }).finally(function () { busy(false); });
    }

    // leaving with unsaved edits asks first; Ctrl+S / Cmd+S saves the draft instead of the browser's page
    window.addEventListener("beforeunload", function (event) {
      if (!dirty) return undefined;
      event.preventDefault();
      event.returnValue = "";  // Chromium asks only when returnValue is set
      return "";
    });
    document.addEventListener("keydown", function (event) {
      if (!(event.ctrlKey || event.metaKey) || event.altKey || (event.key || "").toLowerCase() !== "s") return;
      event.preventDefault();
      var field = document.activeElement;
      if (field && field !== document.body && root.contains(field) && field.blur) field.blur();  // commit what is typed
      if (!working) saveDraft();
    });

    return { say: say, h: h, post: post, busy: busy, setDirty: setDirty, saveDraft: saveDraft, validate: validate,
             deploy: deploy, isDirty: function () { return dirty; } };
  }

  window.collabflow = Object.assign(window.collabflow || {}, { enableZoom: enableZoom, workbench: workbench });

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
