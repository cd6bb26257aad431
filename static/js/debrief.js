// The debrief on a phone. Everything here is an extra: without JavaScript officers type the
// latitude and longitude, and "Add another concern" asks the server for another blank form.
(function () {
  "use strict";

  if (!("geolocation" in navigator)) return;

  function say(statusId, message) {
    var status = document.getElementById(statusId);
    if (status) status.textContent = message;
  }

  document.querySelectorAll("[data-geolocate]").forEach(function (button) {
    button.closest(".geolocate").hidden = false;
    button.addEventListener("click", function () {
      var lat = document.getElementById(button.getAttribute("data-lat"));
      var lng = document.getElementById(button.getAttribute("data-lng"));
      var statusId = button.getAttribute("data-status");
      button.disabled = true;
      say(statusId, "Finding your position…");
      navigator.geolocation.getCurrentPosition(
        function (position) {
          button.disabled = false;
          lat.value = position.coords.latitude.toFixed(6);
          lng.value = position.coords.longitude.toFixed(6);
          var metres = Math.round(position.coords.accuracy);
          say(
            statusId,
            "Position added, accurate to about " + metres + " metres. " +
              "Check it is where the concern is."
          );
        },
        function (error) {
          button.disabled = false;
          say(
            statusId,
            error.code === error.PERMISSION_DENIED
              ? "Your phone did not share its position. You can type it, or leave it blank."
              : "Your position could not be found. You can type it, or leave it blank."
          );
        },
        { enableHighAccuracy: true, timeout: 15000, maximumAge: 60000 }
      );
    });
  });
})();
