// The console's only script: a file, not inline, as its Content-Security-Policy allows
// scripts from the gateway's own files only.
// A button with data-confirm asks before it submits its form (discarding a dead letter).
document.addEventListener("click", function (event) {
  var button = event.target.closest("button[data-confirm]");
  if (button && !window.confirm(button.getAttribute("data-confirm"))) {
    event.preventDefault();
  }
});
