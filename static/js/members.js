// Ghost's theme contract for subscribe forms ([data-members-form]): the form gains "loading"
// while htmx posts it, then "success" or "error". The forms work without this file: the server
// renders the error and success states itself, and without JavaScript they are plain posts.
(function () {
  "use strict";
  if (window.blogMembersForms) return; // the script is included once per subscribe box
  window.blogMembersForms = true;

  var OUTCOMES = ["loading", "success", "error"];

  function membersForm(event) {
    var element = event.target;
    return element && element.closest ? element.closest("[data-members-form]") : null;
  }

  function mark(form, state) {
    form.classList.remove.apply(form.classList, OUTCOMES);
    if (state) form.classList.add(state);
  }

  document.addEventListener("htmx:before:request", function (event) {
    var form = membersForm(event);
    if (form) mark(form, "loading");
  });

  document.addEventListener("htmx:after:request", function (event) {
    var form = membersForm(event);
    var ctx = event.detail && event.detail.ctx;
    var status = ctx && ctx.response ? ctx.response.status : 0;
    if (form) mark(form, status >= 200 && status < 400 ? "success" : "error");
  });

  // Once a reader has subscribed through one box, every other box on the page says the same:
  // each form becomes a copy of the success message, keeping its own ids.
  document.addEventListener("htmx:after:swap", function () {
    var done = document.querySelector(".subscribe-done[data-members-form]");
    if (!done) return;
    document.querySelectorAll("form[data-members-form]").forEach(function (form) {
      var copy = done.cloneNode(true);
      var title = form.querySelector("[id$='-title']");
      var heading = copy.querySelector(".subscribe-done__title");
      copy.id = form.id;
      if (heading) heading.id = title ? title.id : form.id + "-title";
      form.replaceWith(copy);
    });
  });

  // "Ok, Thanks" closes the message: the dialog it is in, or the box itself.
  document.addEventListener("click", function (event) {
    var button = event.target.closest && event.target.closest("[data-members-close]");
    if (!button) return;
    event.preventDefault();
    var dialog = button.closest("dialog");
    if (dialog) dialog.close();
    else button.closest(".subscribe-done").hidden = true;
  });

  // The request never got an answer (offline, server down): say so where errors go.
  document.addEventListener("htmx:error", function (event) {
    var form = membersForm(event);
    if (!form) return;
    mark(form, "error");
    var box = form.querySelector("[data-members-error]");
    if (box) box.textContent = "Could not reach the site. Check your connection and try again.";
  });
})();
