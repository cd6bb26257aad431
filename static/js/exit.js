// "Exit this page": leave for a neutral site and replace this page in the history,
// from the button or by pressing Esc three times in quick succession.
(function () {
  "use strict";
  var button = document.getElementById("exit-this-page");
  if (!button) return;
  var exitUrl = button.getAttribute("data-exit-url");

  function leave() {
    document.body.style.visibility = "hidden";
    window.location.replace(exitUrl);
  }

  button.addEventListener("click", function (event) {
    event.preventDefault();
    leave();
  });

  var presses = [];
  document.addEventListener("keydown", function (event) {
    if (event.key !== "Escape") return;
    var now = Date.now();
    presses = presses.filter(function (t) { return now - t < 2000; });
    presses.push(now);
    if (presses.length >= 3) leave();
  });
})();
