// cyberpeace console: refresh the situation page every 30 s, unless the tab is hidden.
"use strict";
(function () {
  if (!document.getElementById("safe-areas")) { return; }
  setInterval(function () {
    if (document.visibilityState === "visible") { window.location.reload(); }
  }, 30000);
})();
