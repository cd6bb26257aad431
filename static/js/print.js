// "Print this report": shown only where this script runs, it opens the browser's print
// dialogue; reports.css lays the page out for paper.
(function () {
  "use strict";
  var button = document.getElementById("print-report");
  if (!button) return;
  button.addEventListener("click", function () {
    window.print();
  });
  button.closest(".report-print").hidden = false;
})();
