// Admin screens' small behaviours, loaded only on /admin pages. Every screen works without
// this file: it adds the CSRF header to htmx requests, warns before leaving unsaved changes,
// explains failed autosaves, and offers copy / insert buttons.
(function () {
  "use strict";

  function csrfToken() {
    var meta = document.querySelector('meta[name="csrf-token"]');
    return meta ? meta.content : "";
  }

  // htmx requests carry the session's CSRF token in a header (forms also carry the field).
  document.addEventListener("htmx:config:request", function (event) {
    var request = event.detail.ctx.request;
    request.headers["X-CSRFToken"] = csrfToken();
    // Autosave and preview never need the chosen files: do not upload them again and again.
    if (request.body && typeof request.body.delete === "function" &&
        event.detail.ctx.sourceElement.closest("form#editor")) {
      var source = event.detail.ctx.sourceElement;
      if (source.id === "autosave" || source.id === "field-markdown") {
        request.body.delete("feature_image_file");
      }
    }
  });

  // --- Unsaved changes: warn before leaving a form that changed since it was last saved.
  var edits = 0;      // changes made so far
  var savedAt = 0;    // how many changes the last successful save included
  var pending = 0;    // changes included in the autosave in flight
  var submitting = false;

  function watchedForm(target) {
    return target && target.closest && target.closest("form[data-unsaved-warning]");
  }

  document.addEventListener("input", function (event) {
    if (watchedForm(event.target)) edits += 1;
  });
  document.addEventListener("change", function (event) {
    if (watchedForm(event.target)) edits += 1;
  });
  document.addEventListener("submit", function (event) {
    // "Open preview" submits to a new tab: this page stays, and so do its unsaved changes.
    if (event.submitter && event.submitter.formTarget === "_blank") return;
    if (!watchedForm(event.target)) return;
    if (autosaving) {
      // An autosave of a new post is on its way: its answer gives the form the post's id and
      // version. Submit once it is back, so the post is created once, not twice.
      event.preventDefault();
      heldSubmit = { form: event.target, submitter: event.submitter || null };
      return;
    }
    submitting = true;
  });
  window.addEventListener("beforeunload", function (event) {
    if (!submitting && edits > savedAt) {
      event.preventDefault();
      event.returnValue = "";
    }
  });

  function isAutosave(event) {
    var source = event.detail && event.detail.ctx && event.detail.ctx.sourceElement;
    return source && source.id === "autosave";
  }

  function setStatus(message) {
    var status = document.getElementById("autosave-status");
    if (!status) return;
    status.textContent = "";
    var span = document.createElement("span");
    span.className = "autosave__error";
    span.setAttribute("role", "alert");
    span.textContent = message;
    status.appendChild(span);
  }

  var autosaving = false;  // an autosave request is on its way
  var heldSubmit = null;   // a save pressed meanwhile: {form, submitter}

  document.addEventListener("htmx:before:request", function (event) {
    if (!isAutosave(event)) return;
    if (submitting || heldSubmit) {
      event.preventDefault();  // the form itself is being saved: no autosave beside it
      return;
    }
    autosaving = true;
    pending = edits;
  });
  document.addEventListener("htmx:finally:request", function (event) {
    if (!isAutosave(event)) return;
    autosaving = false;
    if (!heldSubmit) return;
    var held = heldSubmit;
    heldSubmit = null;
    // After the swap's out-of-band fields (post id, version) are in the form.
    setTimeout(function () { held.form.requestSubmit(held.submitter); }, 0);
  });
  document.addEventListener("htmx:after:request", function (event) {
    if (isAutosave(event) && event.detail.ctx.response && event.detail.ctx.response.status === 200) {
      savedAt = Math.max(savedAt, pending);
    }
  });

  // A full error page (a 400 for an expired session, a 500) must not land inside a small
  // target: show a short message there instead.
  document.addEventListener("htmx:before:swap", function (event) {
    var ctx = event.detail.ctx;
    if (!ctx.response || ctx.response.status < 400 || !/<html[\s>]/i.test(ctx.text || "")) return;
    event.preventDefault();
    var message = ctx.response.status === 401
      ? "Your session has ended: sign in again in another tab, then keep working here."
      : "Something went wrong (" + ctx.response.status + ").";
    if (isAutosave(event)) {
      setStatus("Not saved. " + message + " Your text is still here.");
    } else if (ctx.target) {
      ctx.target.textContent = message;
    }
  });
  // No answer at all (offline, server down).
  document.addEventListener("htmx:error", function (event) {
    if (isAutosave(event)) {
      setStatus("Not saved: the server cannot be reached. Your text is still here; " +
        "keep this page open and try again.");
    }
  });

  // --- Small helpers: copy a field, add a tag to the list, insert uploaded image Markdown.
  document.addEventListener("click", function (event) {
    var button = event.target.closest && event.target.closest("[data-copy], [data-add-tag], [data-insert-markdown]");
    if (!button) return;
    if (button.hasAttribute("data-copy")) {
      var field = document.querySelector(button.getAttribute("data-copy"));
      if (!field) return;
      field.select();
      if (navigator.clipboard) {
        navigator.clipboard.writeText(field.value).then(function () { button.textContent = "Copied"; });
      }
    } else if (button.hasAttribute("data-add-tag")) {
      var tags = document.getElementById("field-tags");
      if (!tags) return;
      var name = button.getAttribute("data-add-tag");
      var names = tags.value.split(",").map(function (s) { return s.trim(); }).filter(Boolean);
      if (names.map(function (s) { return s.toLowerCase(); }).indexOf(name.toLowerCase()) === -1) {
        names.push(name);
        tags.value = names.join(", ");
        tags.dispatchEvent(new Event("change", { bubbles: true }));
      }
    } else {
      var text = document.getElementById("field-markdown");
      if (!text) return;
      var snippet = "\n" + button.getAttribute("data-insert-markdown") + "\n";
      var at = text.selectionEnd || text.value.length;
      text.value = text.value.slice(0, at) + snippet + text.value.slice(at);
      text.dispatchEvent(new Event("input", { bubbles: true }));
      text.focus();
    }
  });
})();
