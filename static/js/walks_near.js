// "Walks near me" on the walk list: with her permission, the browser's position sorts the
// list by distance. The position is rounded to 2 decimal places (about 1 km) here, before it
// leaves the browser, and sent as near=LAT,LNG; the server keeps it nowhere. Without this
// script, or without her permission, the page stays as it is.
(function () {
  "use strict";
  var box = document.getElementById("near-me");
  if (!box || !("geolocation" in navigator)) return;
  var button = document.getElementById("near-me-button");
  var status = document.getElementById("near-me-status");
  box.hidden = false;
  button.addEventListener("click", function () {
    button.disabled = true;
    status.textContent = "Finding where you are\u2026";
    navigator.geolocation.getCurrentPosition(
      function (position) {
        var params = new URLSearchParams(window.location.search);
        params.delete("page");
        params.set(
          "near",
          position.coords.latitude.toFixed(2) + "," + position.coords.longitude.toFixed(2)
        );
        window.location.search = params.toString();
      },
      function () {
        button.disabled = false;
        status.textContent =
          "We could not find where you are. You can choose a borough instead.";
      },
      { enableHighAccuracy: false, maximumAge: 600000, timeout: 15000 }
    );
  });
})();
