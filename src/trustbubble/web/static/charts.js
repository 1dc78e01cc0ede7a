// Draws every <canvas data-chart> with the vendored Chart.js; the data sits in the attribute,
// so the page needs no inline script under its Content-Security-Policy.
(function () {
  "use strict";
  var PALETTE = ["#0b6e4f", "#c2410c", "#1d4ed8", "#7c3aed", "#a16207"];
  function draw(canvas) {
    var data = JSON.parse(canvas.getAttribute("data-chart"));
    var kind = canvas.getAttribute("data-kind");
    if (kind === "levels") { return levels(canvas, data); }
    if (kind === "resources") { return resources(canvas, data); }
    var line = kind === "line";
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
  // Norms down the x axis, a level (0 to 4, named by data.ticks) up the y axis, one bar per
  // series: a year of one state, or a state beside others.
  function levels(canvas, data) {
    new window.Chart(canvas, {
      type: "bar",
      data: {
        labels: data.labels,
        datasets: data.series.map(function (s, i) {
          return {
            label: s.label,
            // A norm at "not started" still shows a sliver, unlike one the report omits.
            data: s.values.map(function (v) { return v === null ? null : v + 0.1; }),
            backgroundColor: PALETTE[i % PALETTE.length],
          };
        }),
      },
      options: {
        animation: false,
        maintainAspectRatio: false,
        scales: {
          y: {
            min: 0,
            max: data.ticks.length - 0.5,
            ticks: {
              stepSize: 1,
              callback: function (v) { return data.ticks[v] || ""; },
            },
          },
        },
      },
    });
  }
  // An exercise team's resources (0 to 100) over game time, one stepped line each.
  function resources(canvas, data) {
    new window.Chart(canvas, {
      type: "line",
      data: {
        datasets: data.series.map(function (s, i) {
          return {
            label: s.label,
            data: s.points.map(function (p) { return { x: p[0], y: p[1] }; }),
            borderColor: PALETTE[i % PALETTE.length],
            backgroundColor: PALETTE[i % PALETTE.length],
            stepped: true,
          };
        }),
      },
      options: {
        animation: false,
        maintainAspectRatio: false,
        scales: {
          x: { type: "linear", min: 0, max: data.minutes, title: { display: true, text: "minute" } },
          y: { min: 0, max: 100 },
        },
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
