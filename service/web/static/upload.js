/* Evidence upload on a question page: a drop zone, checks before sending and a progress bar,
   on top of the plain multipart form. Without this script the form works as it is, and the
   server checks every file again whatever this script says.

   Sent with our own XMLHttpRequest, not htmx's hx-encoding="multipart/form-data" and its
   htmx:xhr:progress event, although htmx is served:
   - htmx 2 fires htmx:xhr:progress for the upload (xhr.upload) and for the download of the
     answer (xhr) under that one name, with nothing to tell them apart: the bar would jump back
     when the answer page starts to arrive;
   - htmx swaps no 400/413 answer unless a htmx:beforeSwap hook says so, and showing the page
     the 303 leads to means hx-target="body" with hx-push-url, whose history snapshots put these
     confidential (no-store) pages into localStorage unless hx-history="false" is on each;
   - hx-on handlers are compiled with Function(), which our CSP (script-src 'self') refuses, so
     the drop zone, the checks and the bar need a script of ours anyway.
   With our own XHR, xhr.upload's progress is the upload alone, the browser follows the 303 and
   we go to xhr.responseURL as a real navigation, and an error page is shown as the server sent it. */
(function () {
  "use strict";

  if (!window.FormData || !window.DataTransfer || !window.DOMParser ||
      !("upload" in new XMLHttpRequest())) {
    return; // an old browser keeps the plain form
  }
  try {
    new DataTransfer(); // Safari before 14.1 has the name but refuses to make one
  } catch (e) {
    return;
  }

  /* Sizes as the pages say them (service/web/view.py size_in_words): 20 MB, 1.5 MB, 320 KB. */
  function words(size) {
    if (size >= 1048576) {
      var mb = size / 1048576;
      return (mb >= 10 || mb === Math.floor(mb) ? mb.toFixed(0) : mb.toFixed(1)) + " MB";
    }
    if (size >= 1024) return Math.floor(size / 1024) + " KB";
    return size + " bytes";
  }

  function make(tag, className, text) {
    var el = document.createElement(tag);
    if (className) el.className = className;
    if (text) el.textContent = text;
    return el;
  }

  function hasFiles(event) {
    var types = event.dataTransfer && event.dataTransfer.types;
    return !!types && Array.prototype.indexOf.call(types, "Files") >= 0;
  }

  function enhance(root) {
    var form = root.querySelector("form[data-upload]");
    if (!form || form.hasAttribute("data-enhanced")) return;
    var input = form.querySelector("input[type=file]");
    var field = input && input.closest(".field");
    var button = form.querySelector("button[type=submit]");
    if (!field || !button) return;
    form.setAttribute("data-enhanced", "");

    var limit = parseInt(form.getAttribute("data-max-bytes"), 10) || 0;
    var limitWords = form.getAttribute("data-max-words") || words(limit);
    var kinds = form.getAttribute("data-kinds") || "";
    var extensions = (form.getAttribute("data-extensions") || "").split(/\s+/).filter(Boolean);
    var described = (input.getAttribute("aria-describedby") || "").split(/\s+/)
      .filter(function (id) { return id && id !== input.id + "-error"; });
    var sending = false;

    // The real input stays where it was, inside the zone: Tab, Space and the picker still work.
    var zone = make("div", "drop-zone");
    input.parentNode.insertBefore(zone, input);
    zone.appendChild(make("p", "drop-zone-text", "Drag files here or choose files"));
    zone.appendChild(input);
    var chosen = make("div", "upload-chosen");
    chosen.id = input.id + "-chosen";
    chosen.setAttribute("aria-live", "polite");
    field.appendChild(chosen);

    var box = make("div", "upload-progress");
    box.hidden = true;
    box.setAttribute("aria-live", "polite");
    var label = make("p", "upload-progress-label");
    label.id = input.id + "-progress-label";
    var bar = make("progress");
    bar.max = 100;
    bar.value = 0;
    bar.setAttribute("aria-labelledby", label.id);
    box.appendChild(label);
    box.appendChild(bar);
    button.parentNode.insertBefore(box, button.nextSibling);

    function refusals(files) {
      if (!files.length) return ["Choose one or more files to add"];
      var found = [];
      Array.prototype.forEach.call(files, function (f) {
        var dot = f.name.lastIndexOf(".");
        var ext = dot > 0 ? f.name.slice(dot).toLowerCase() : "";
        if (extensions.length && extensions.indexOf(ext) < 0) {
          found.push(f.name + " is not a kind of file Peerloop takes: send a " + kinds + " file");
        } else if (limit && f.size > limit) {
          // "is 20 MB: the largest is 20 MB" would read as a mistake just over the limit.
          var size = words(f.size) === limitWords ? "over " + limitWords : words(f.size);
          found.push(f.name + " is " + size + ": the largest file Peerloop takes is " + limitWords);
        } else if (f.size === 0) {
          found.push(f.name + " is empty (0 bytes): choose the file again");
        }
      });
      return found;
    }

    /* The summary at the top of main, as the server draws it; the server's own (about the
       self-judgement, say) is shared rather than doubled. */
    function summary() {
      var main = document.querySelector("main");
      var existing = main.querySelector(".error-summary");
      if (existing) return existing;
      var div = make("div", "error-summary");
      div.setAttribute("role", "alert");
      div.setAttribute("aria-labelledby", "error-summary-title");
      div.tabIndex = -1;
      var title = make("h2", "", "There is a problem");
      title.id = "error-summary-title";
      div.appendChild(title);
      div.appendChild(make("ul"));
      main.insertBefore(div, main.firstChild);
      return div;
    }

    /* Earlier messages about the files are stale once other files are chosen or sent. */
    function clear() {
      Array.prototype.forEach.call(field.querySelectorAll(".error-message"), function (p) {
        p.remove();
      });
      field.classList.remove("field-error");
      input.setAttribute("aria-describedby", described.join(" "));
      var old = document.querySelector("main .error-summary");
      if (!old) return;
      Array.prototype.forEach.call(old.querySelectorAll("a[href='#" + input.id + "']"), function (a) {
        a.closest("li").remove();
      });
      if (!old.querySelector("li")) {
        old.remove();
        document.title = document.title.replace(/^Error: /, "");
      }
    }

    function show(messages, focus) {
      clear();
      field.classList.add("field-error");
      var ids = described.slice();
      messages.forEach(function (message, i) {
        var p = make("p", "error-message");
        p.id = input.id + "-error" + (i ? "-" + (i + 1) : "");
        p.appendChild(make("span", "visually-hidden", "Error:"));
        p.appendChild(document.createTextNode(" " + message));
        zone.parentNode.insertBefore(p, zone);
        ids.push(p.id);
      });
      input.setAttribute("aria-describedby", ids.join(" "));
      var top = summary();
      var list = top.querySelector("ul");
      messages.forEach(function (message) {
        var a = make("a", "", message);
        a.href = "#" + input.id;
        var li = make("li");
        li.appendChild(a);
        list.appendChild(li);
      });
      if (!/^Error: /.test(document.title)) document.title = "Error: " + document.title;
      if (focus) top.focus();
    }

    function list() {
      chosen.textContent = "";
      var files = input.files;
      if (!files.length) {
        clear();
        return;
      }
      chosen.appendChild(make("p", "upload-chosen-title",
        files.length === 1 ? "1 file chosen:" : files.length + " files chosen:"));
      var ul = make("ul", "upload-chosen-list");
      Array.prototype.forEach.call(files, function (f) {
        ul.appendChild(make("li", "", f.name + " (" + words(f.size) + ")"));
      });
      chosen.appendChild(ul);
      var refused = refusals(files);
      if (refused.length) show(refused, false);
      else clear();
    }

    input.addEventListener("change", list);

    function over(event) {
      if (!hasFiles(event)) return;
      event.preventDefault();
      event.dataTransfer.dropEffect = sending ? "none" : "copy";
      zone.classList.add("drop-zone-over");
    }
    zone.addEventListener("dragenter", over);
    zone.addEventListener("dragover", over);
    zone.addEventListener("dragleave", function (event) {
      if (!zone.contains(event.relatedTarget)) zone.classList.remove("drop-zone-over");
    });
    zone.addEventListener("drop", function (event) {
      if (!hasFiles(event)) return;
      event.preventDefault();
      zone.classList.remove("drop-zone-over");
      if (sending) return;
      // A fresh DataTransfer: the drop's own is locked once the event is over.
      var transfer = new DataTransfer();
      Array.prototype.forEach.call(event.dataTransfer.files, function (f) {
        transfer.items.add(f);
      });
      input.files = transfer.files;
      list();
    });

    function progress(text, value) {
      box.hidden = false;
      label.textContent = text;
      if (value === null) bar.removeAttribute("value");
      else bar.value = value;
    }

    function failed() {
      sending = false;
      input.disabled = false;
      box.hidden = true;
      show(["The files could not be sent: check the connection, then send them again" +
        " (they are still chosen)"], true);
    }

    /* The server's 400/413 page is what the person reads, as without this script; the address
       stays the question's, which is what reloading should show. */
    function showPage(html) {
      var page = new DOMParser().parseFromString(html || "", "text/html");
      if (!page.querySelector("main")) return false;
      document.title = page.title;
      document.body.replaceWith(document.importNode(page.body, true));
      if (window.htmx) window.htmx.process(document.body);
      enhance(document);
      window.scrollTo(0, 0);
      var target = document.querySelector("[autofocus]") || document.querySelector("main");
      if (target) target.focus();
      return true;
    }

    function send() {
      sending = true;
      clear();
      // A "Saved" banner is about what was done before: it would mislead beside the bar.
      Array.prototype.forEach.call(document.querySelectorAll("main .banner"), function (b) {
        b.remove();
      });
      var count = input.files.length;
      var what = count === 1 ? "1 file" : count + " files";
      var said = 0;
      progress("Sending " + what + ": 0%", 0);
      var xhr = new XMLHttpRequest();
      xhr.open("POST", form.action);
      xhr.upload.addEventListener("progress", function (event) {
        if (!event.lengthComputable) {
          progress("Sending " + what, null);
          return;
        }
        var percent = Math.floor((event.loaded / event.total) * 100);
        bar.value = percent;
        // The label is a live region: in steps of 10%, not a word for every 1%.
        if (percent - said >= 10 && percent < 100) {
          said = percent - (percent % 10);
          label.textContent = "Sending " + what + ": " + said + "%";
        }
      });
      xhr.upload.addEventListener("load", function () {
        progress("Sending " + what + ": 100%. Peerloop is checking and saving them", 100);
      });
      xhr.addEventListener("load", function () {
        if (xhr.status >= 200 && xhr.status < 300) {
          window.location.assign(xhr.responseURL || window.location.href);
        } else if (!showPage(xhr.responseText)) {
          failed();
        }
      });
      xhr.addEventListener("error", failed);
      xhr.addEventListener("abort", failed);
      xhr.addEventListener("timeout", failed);
      var data = new FormData(form);
      // Files chosen now would not go with these: the input waits until this send is over.
      input.disabled = true;
      xhr.send(data);
    }

    form.addEventListener("submit", function (event) {
      event.preventDefault();
      if (sending) return;
      var refused = refusals(input.files);
      if (refused.length) show(refused, true);
      else send();
    });

    if (input.files.length) list(); // a browser that kept the choice over a reload
  }

  function besideTheZone(event) {
    var target = event.target;
    return hasFiles(event) && !(target && target.closest && target.closest(".drop-zone"));
  }

  // A file dropped beside the zone would replace the page with the file, and the form with it.
  window.addEventListener("dragover", function (event) {
    if (besideTheZone(event) && document.querySelector(".drop-zone")) {
      event.preventDefault();
      event.dataTransfer.dropEffect = "none";
    }
  });
  window.addEventListener("drop", function (event) {
    if (besideTheZone(event) && document.querySelector(".drop-zone")) event.preventDefault();
  });

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", function () { enhance(document); });
  } else {
    enhance(document);
  }
})();
