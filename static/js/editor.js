// The editor's writing aids, on the plain textarea (which works without this file):
// a formatting toolbar and shortcuts, images pasted, dropped or picked are uploaded and
// inserted at the cursor, a live word count, and the address becomes the post's edit URL as
// soon as autosave has created it (so a reload keeps the draft).
(function () {
  "use strict";

  var form = document.getElementById("editor");
  var text = document.getElementById("field-markdown");
  if (!form || !text) return;
  var toolbar = document.querySelector("[data-md-toolbar]");
  var picker = document.getElementById("md-image-file");
  var status = document.getElementById("md-upload-status");
  var wordCount = document.getElementById("word-count");
  var uploadUrl = form.getAttribute("data-upload-url");
  var IMAGE_TYPES = /^image\/(jpeg|png|gif|webp)$/;

  function csrfToken() {
    var meta = document.querySelector('meta[name="csrf-token"]');
    return meta ? meta.content : "";
  }

  // Replace text[start, end) with insert, keeping the browser's undo history where it can.
  function replace(start, end, insert, selectFrom, selectTo) {
    text.focus();
    text.setSelectionRange(start, end);
    var done = false;
    if (document.activeElement === text) {  // not while a dialog holds the focus
      try { done = document.execCommand("insertText", false, insert); } catch (e) { done = false; }
    }
    if (!done || text.value.slice(start, start + insert.length) !== insert) {
      text.setRangeText(insert, start, end, "end");
      text.dispatchEvent(new Event("input", { bubbles: true }));
    }
    if (selectFrom !== undefined) text.setSelectionRange(selectFrom, selectTo);
  }

  function wrap(before, after, placeholder) {
    var start = text.selectionStart, end = text.selectionEnd;
    var chosen = text.value.slice(start, end) || placeholder;
    replace(start, end, before + chosen + after, start + before.length,
      start + before.length + chosen.length);
  }

  // Put prefix at the start of every line the selection touches.
  function prefixLines(prefix) {
    var value = text.value;
    var start = value.lastIndexOf("\n", text.selectionStart - 1) + 1;
    var end = text.selectionEnd;
    var lines = value.slice(start, end).split("\n").map(function (line) {
      return line.indexOf(prefix) === 0 ? line : prefix + line;
    });
    var joined = lines.join("\n");
    replace(start, end, joined, start + joined.length, start + joined.length);
  }

  var actions = {
    bold: function () { wrap("**", "**", "bold text"); },
    italic: function () { wrap("_", "_", "italic text"); },
    link: function () {
      var start = text.selectionStart, end = text.selectionEnd;
      var label = text.value.slice(start, end) || "link text";
      var insert = "[" + label + "](https://)";
      var url = start + label.length + 3;
      replace(start, end, insert, url, url + 8);
    },
    heading: function () { prefixLines("## "); },
    quote: function () { prefixLines("> "); },
    list: function () { prefixLines("- "); },
    code: function () {
      var chosen = text.value.slice(text.selectionStart, text.selectionEnd);
      if (chosen.indexOf("\n") === -1) wrap("`", "`", "code");
      else wrap("```\n", "\n```", "");
    },
    image: function () { if (picker) picker.click(); }
  };
  var shortcuts = { b: "bold", i: "italic", k: "link", h: "heading", "'": "quote", l: "list", e: "code" };

  if (toolbar) {
    toolbar.hidden = false;
    toolbar.addEventListener("click", function (event) {
      var button = event.target.closest("[data-md]");
      if (button) actions[button.getAttribute("data-md")]();
    });
  }
  text.addEventListener("keydown", function (event) {
    if (!(event.ctrlKey || event.metaKey) || event.altKey) return;
    var key = event.key.toLowerCase();
    var name = event.shiftKey ? (key === "i" ? "image" : null) : shortcuts[key];
    if (!name) return;
    event.preventDefault();
    actions[name]();
  });

  // --- Images: paste, drop or pick; upload with progress; insert Markdown at the cursor.
  function say(message, failed) {
    if (!status) return;
    status.textContent = message;
    status.className = "md-toolbar__progress" + (failed ? " md-toolbar__progress--error" : "");
  }

  function uploadError(xhr) {
    if (xhr.status === 0) return "the server cannot be reached";
    if (xhr.status === 413) return "the file is too large";
    try {
      var answer = JSON.parse(xhr.responseText);
      if (answer && answer.error) return answer.error;
    } catch (e) { /* not JSON: an error page */ }
    if (xhr.status === 401 || xhr.status === 400) return "your session has ended; sign in again in another tab";
    return "the server answered " + xhr.status;
  }

  // Ask for each image's description in turn (a <dialog>; window.prompt where there is none).
  var dialog = document.getElementById("image-alt-dialog");
  var altQueue = Promise.resolve();
  function askOnce(name, ticket) {
    return new Promise(function (resolve) {
      var clean = function (value) { return (value || "").replace(/[\[\]\r\n]+/g, " ").trim(); };
      if (!dialog || typeof dialog.showModal !== "function") {
        resolve(clean(window.prompt("Describe the image for people who cannot see it:", "")));
        return;
      }
      var input = document.getElementById("image-alt");
      document.getElementById("image-alt-name").textContent = name;
      input.value = "";
      dialog.returnValue = "";
      dialog.addEventListener("close", function done() {
        dialog.removeEventListener("close", done);
        ticket.showing = false;
        resolve(dialog.returnValue === "insert" ? clean(input.value) : "");
        text.focus();
      });
      ticket.showing = true;
      dialog.showModal();
      input.focus();
    });
  }
  // Returns a ticket: .answer resolves with the description; .cancel() drops the question.
  function askAlt(name) {
    var ticket = { cancelled: false, showing: false };
    ticket.answer = altQueue.then(function () {
      return ticket.cancelled ? "" : askOnce(name, ticket);
    });
    ticket.cancel = function () {
      ticket.cancelled = true;
      if (ticket.showing) dialog.close("skip");
    };
    altQueue = ticket.answer;
    return ticket;
  }

  var uploads = 0;
  function upload(file) {
    if (!IMAGE_TYPES.test(file.type)) {
      say("Not added: “" + file.name + "” is not a JPEG, PNG, GIF or WebP image.", true);
      return;
    }
    var altAsked = askAlt(file.name || "pasted image");
    uploads += 1;
    var marker = "![Uploading " + (file.name || "image").replace(/[\[\]\r\n]+/g, " ") + " #" + uploads + "…]()";
    var at = text.selectionEnd;
    var before = at > 0 && text.value[at - 1] !== "\n" ? "\n" : "";
    replace(text.selectionStart, at, before + marker + "\n", at + before.length + marker.length + 1,
      at + before.length + marker.length + 1);

    function swapMarker(insert) {
      var where = text.value.indexOf(marker);
      if (where === -1) return;
      var end = where + marker.length;
      if (!insert && text.value[end] === "\n") end += 1;
      var keepStart = text.selectionStart, keepEnd = text.selectionEnd;
      var shift = insert.length - (end - where);
      replace(where, end, insert);
      var adjust = function (pos) { return pos >= end ? pos + shift : pos; };
      text.setSelectionRange(adjust(keepStart), adjust(keepEnd));
    }

    var data = new FormData();
    data.append("image", file, file.name || "pasted-image");
    data.append("csrf_token", csrfToken());
    var xhr = new XMLHttpRequest();
    xhr.open("POST", uploadUrl);
    xhr.setRequestHeader("Accept", "application/json");
    xhr.setRequestHeader("X-CSRFToken", csrfToken());
    xhr.upload.addEventListener("progress", function (event) {
      if (event.lengthComputable) {
        say("Uploading " + file.name + ": " + Math.round(100 * event.loaded / event.total) + "%");
      }
    });
    xhr.addEventListener("load", function () {
      var answer = null;
      try { answer = JSON.parse(xhr.responseText); } catch (e) { answer = null; }
      if (xhr.status === 201 && answer && answer.url) {
        say("Uploaded " + file.name + ".");
        altAsked.answer.then(function (alt) {
          swapMarker("![" + alt + "](" + answer.url + ")");
          say("Image added.");
        });
      } else {
        altAsked.cancel();
        swapMarker("");
        say("Image not added: " + uploadError(xhr) + ".", true);
      }
    });
    xhr.addEventListener("error", function () {
      altAsked.cancel();
      swapMarker("");
      say("Image not added: " + uploadError(xhr) + ". Your text is unchanged.", true);
    });
    say("Uploading " + file.name + "…");
    xhr.send(data);
  }

  function imagesIn(list) {
    return Array.prototype.filter.call(list || [], function (file) { return file.type.indexOf("image/") === 0 || file.type === ""; });
  }

  text.addEventListener("paste", function (event) {
    var files = imagesIn(event.clipboardData && event.clipboardData.files);
    if (!files.length) return;
    event.preventDefault();
    files.forEach(upload);
  });
  text.addEventListener("dragover", function (event) {
    if (event.dataTransfer && Array.prototype.indexOf.call(event.dataTransfer.types, "Files") !== -1) {
      event.preventDefault();
      text.classList.add("is-dropping");
    }
  });
  text.addEventListener("dragleave", function () { text.classList.remove("is-dropping"); });
  text.addEventListener("drop", function (event) {
    text.classList.remove("is-dropping");
    var files = event.dataTransfer ? Array.prototype.slice.call(event.dataTransfer.files) : [];
    if (!files.length) return;
    event.preventDefault();
    var place = document.caretPositionFromPoint
      ? document.caretPositionFromPoint(event.clientX, event.clientY) : null;
    if (place && place.offsetNode === text) text.setSelectionRange(place.offset, place.offset);
    files.forEach(upload);
  });
  if (picker) {
    picker.addEventListener("change", function () {
      Array.prototype.forEach.call(picker.files, upload);
      picker.value = "";
    });
  }

  // --- Word count and reading time (Ghost's 275 words a minute), as you type.
  function countWords() {
    if (!wordCount) return;
    var words = text.value.trim() ? text.value.trim().split(/\s+/).length : 0;
    var perMinute = Number(wordCount.getAttribute("data-words-per-minute")) || 275;
    var minutes = words ? Math.max(1, Math.round(words / perMinute)) : 0;
    wordCount.textContent = words + (words === 1 ? " word" : " words") + " · " + minutes + " min read";
  }
  text.addEventListener("input", countWords);

  // --- Once autosave has created the post, its edit URL is the page's address.
  function adoptEditUrl() {
    var id = document.getElementById("post-id");
    var url = id && id.getAttribute("data-edit-url");
    if (!url || location.pathname === url) return;
    form.setAttribute("action", url);
    history.replaceState(history.state, "", url);
  }
  new MutationObserver(adoptEditUrl).observe(form, { childList: true, subtree: true });
})();
