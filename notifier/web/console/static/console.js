// The console's only script: a file, not inline, as its Content-Security-Policy allows
// scripts from the gateway's own files only. Every page works without it; it adds
// confirmations, charts that open at their latest end, and pages that keep themselves fresh.
// Words come from the page (data attributes), never from here: the script has no language.

// A button with data-confirm asks before it submits its form (discarding a dead letter).
document.addEventListener("click", function (event) {
  var button = event.target.closest("button[data-confirm]");
  if (button && !window.confirm(button.getAttribute("data-confirm"))) {
    event.preventDefault();
  }
});

// Charts wider than a phone scroll sideways; the latest bar is the one an operator wants.
function showLatestBars(root) {
  root.querySelectorAll(".chartbox").forEach(function (box) {
    box.scrollLeft = box.scrollWidth;
  });
}

// "Updated 12 s ago": the server renders when it read the page (data-read-at) and the
// sentences for seconds, minutes and hours with an {n} to fill. The age counts from when
// this browser received the page, as its clock and the server's may disagree.
function showAge(root) {
  root.querySelectorAll("[data-read-at]").forEach(function (time) {
    if (!time.hasAttribute("data-seen-at")) {
      time.setAttribute("data-seen-at", String(Date.now()));
    }
    var seenAt = Number(time.getAttribute("data-seen-at"));
    var seconds = Math.max(0, Math.floor((Date.now() - seenAt) / 1000));
    var pattern = "data-seconds", n = seconds;
    if (seconds >= 3600) { pattern = "data-hours"; n = Math.floor(seconds / 3600); }
    else if (seconds >= 60) { pattern = "data-minutes"; n = Math.floor(seconds / 60); }
    var sentence = time.getAttribute(pattern);
    if (sentence) { time.textContent = sentence.replace("{n}", String(n)); }
  });
}

// The optional refresh: switched on per browser (localStorage), it reads the page again
// every REFRESH_MS and swaps in the new content, but never under an operator's hands
// (typing in a field, reading an opened detail).
var REFRESH_MS = 30000;
var REFRESH_KEY = "console.refresh";

function refreshWanted() {
  try { return window.localStorage.getItem(REFRESH_KEY) === "on"; } catch (e) { return false; }
}

function busy() {
  var field = document.activeElement;
  var typing = field && field.matches &&
    field.matches("input, textarea, select") && !field.matches("[data-refresh-toggle]");
  return Boolean(typing || document.querySelector("main details[open]"));
}

function syncToggles(root) {
  root.querySelectorAll("[data-refresh-toggle]").forEach(function (toggle) {
    toggle.checked = refreshWanted();
  });
}

var refreshing = false;
function refresh() {
  var main = document.querySelector("main");
  if (!refreshWanted() || busy() || refreshing || !main ||
      !document.querySelector("[data-refresh-toggle]")) { return; }
  refreshing = true;
  fetch(window.location.href, { credentials: "same-origin", cache: "no-store" })
    .then(function (answer) {
      if (!answer.ok || answer.redirected) {
        // Signed out, or the page is gone: let the browser show what the server says.
        window.location.reload();
        return null;
      }
      return answer.text();
    })
    .then(function (html) {
      if (html === null || busy()) { return; }
      var fresh = new DOMParser().parseFromString(html, "text/html").querySelector("main");
      if (!fresh) { return; }
      main.innerHTML = fresh.innerHTML;
      main.setAttribute("data-refreshes", String(Number(main.getAttribute("data-refreshes") || 0) + 1));
      prepare(main);
    })
    .catch(function () { /* offline for a moment: the next tick tries again */ })
    .then(function () { refreshing = false; });
}

document.addEventListener("change", function (event) {
  var toggle = event.target.closest && event.target.closest("[data-refresh-toggle]");
  if (!toggle) { return; }
  try {
    if (toggle.checked) { window.localStorage.setItem(REFRESH_KEY, "on"); }
    else { window.localStorage.removeItem(REFRESH_KEY); }
  } catch (e) { /* storage refused: the toggle lasts for this page only */ }
  syncToggles(document);
});

function prepare(root) {
  showLatestBars(root);
  showAge(root);
  syncToggles(root);
}

document.addEventListener("DOMContentLoaded", function () {
  prepare(document);
  window.setInterval(function () { showAge(document); }, 1000);
  window.setInterval(refresh, REFRESH_MS);
});
