// Small upgrades for reader pages; every element they touch is a working link without them.
// - [data-portal="signup"] (Ghost's attribute for subscribe buttons) opens the subscribe
//   dialog instead of following its link to /newsletter/.
// - [data-ghost-search] (Ghost themes' search buttons) moves focus to the header's search box,
//   whose results htmx shows as the reader types; without it, the link opens /search/.
// - "Show more results" in the header's results keeps them open while htmx loads the next ten.
(function () {
  "use strict";

  document.addEventListener("click", function (event) {
    if (!event.target.closest) return;
    var signup = event.target.closest('[data-portal="signup"]');
    var dialog = document.getElementById("subscribe-dialog");
    if (signup && dialog && dialog.showModal) {
      event.preventDefault();
      dialog.showModal();
      var email = dialog.querySelector("input[type=email]");
      if (email) email.focus();
      return;
    }
    var search = event.target.closest("[data-ghost-search]");
    var box = document.getElementById("site-search-q");
    if (box && event.target.closest("#site-search-results .search-more")) {
      // The header's results show while focus is inside the search form. htmx swaps this
      // link out, then focuses the first hit added ([autofocus]); hold focus in the form
      // meanwhile, or the box would close and the new hit could not take focus.
      box.focus({preventScroll: true});
      return;
    }
    if (search && box && box.offsetParent !== null) {
      event.preventDefault();
      box.scrollIntoView({block: "nearest"});
      box.focus();
    }
  });

  // The dialog's close button (it only opens with JavaScript, so the button needs no form).
  document.addEventListener("click", function (event) {
    var close = event.target.closest && event.target.closest("[data-dialog-close]");
    if (close && close.closest("dialog")) close.closest("dialog").close();
  });

  // A click on the dialog's backdrop (outside its box) closes it, as Ghost's Portal does.
  document.addEventListener("click", function (event) {
    var dialog = event.target;
    if (dialog.tagName !== "DIALOG" || !dialog.open) return;
    var box = dialog.getBoundingClientRect();
    var inside = event.clientX >= box.left && event.clientX <= box.right &&
      event.clientY >= box.top && event.clientY <= box.bottom;
    if (!inside) dialog.close();
  });

  // Escape in the header search clears its results.
  document.addEventListener("keydown", function (event) {
    if (event.key !== "Escape" || !event.target.matches || !event.target.matches("#site-search-q")) return;
    var results = document.getElementById("site-search-results");
    if (results) results.innerHTML = "";
  });
})();
