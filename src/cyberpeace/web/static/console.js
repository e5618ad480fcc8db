// cyberpeace console: show bit rates in human units and refresh the dashboard every 30 s.
"use strict";
(function () {
  const units = ["bit/s", "kbit/s", "Mbit/s", "Gbit/s", "Tbit/s"];
  function human(bps) {
    let i = 0;
    while (bps >= 1000 && i < units.length - 1) { bps /= 1000; i += 1; }
    return bps.toFixed(1) + " " + units[i];
  }
  document.querySelectorAll("[data-bps]").forEach(function (cell) {
    const bps = Number(cell.dataset.bps);
    if (bps > 0) { cell.title = human(bps); cell.textContent += " · " + human(bps); }
  });
  if (document.getElementById("safe-areas")) {
    setTimeout(function () { window.location.reload(); }, 30000);
  }
})();
