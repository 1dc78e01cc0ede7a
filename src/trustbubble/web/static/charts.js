// Draws every <canvas data-chart> with the vendored Chart.js; the data sits in the attribute,
// so the page needs no inline script under its Content-Security-Policy.
(function () {
  "use strict";
  function draw(canvas) {
    var data = JSON.parse(canvas.getAttribute("data-chart"));
    var line = canvas.getAttribute("data-kind") === "line";
    new window.Chart(canvas, {
      type: line ? "line" : "bar",
      data: {
        labels: data.labels,
        datasets: [{
          label: "Incidents",
          data: data.values,
          borderColor: "#0b6e4f",
          backgroundColor: line ? "rgba(11, 110, 79, 0.15)" : "#0b6e4f",
          fill: line,
          tension: 0.2,
        }],
      },
      options: {
        animation: false,
        maintainAspectRatio: false,
        indexAxis: line ? "x" : "y",
        plugins: { legend: { display: false } },
        scales: { x: { beginAtZero: true }, y: { beginAtZero: true } },
      },
    });
  }
  function start() {
    if (!window.Chart) { return; }
    document.querySelectorAll("canvas[data-chart]").forEach(draw);
  }
  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", start);
  } else {
    start();
  }
})();
