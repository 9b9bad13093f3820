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

  // The request never got an answer (offline, server down): say so where errors go.
  document.addEventListener("htmx:error", function (event) {
    var form = membersForm(event);
    if (!form) return;
    mark(form, "error");
    var box = form.querySelector("[data-members-error]");
    if (box) box.textContent = "Could not reach the site. Check your connection and try again.";
  });
})();
