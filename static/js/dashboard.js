// Draws the 30-day chart from the JSON the page embeds (#trend-data) with
// Chart.js (from npm, see package.json). The table below the chart holds the
// same figures for screen readers and for anyone without JavaScript.
(function () {
  "use strict";
  function draw() {
    var data = document.getElementById("trend-data");
    var canvas = document.getElementById("trend-chart");
    if (!data || !canvas || !window.Chart) { return; }
    var series = JSON.parse(data.textContent);
    var labels = series.labels.map(function (day) {
      return new Date(day + "T00:00:00").toLocaleDateString(undefined, { day: "numeric", month: "short" });
    });
    new window.Chart(canvas, {
      data: {
        labels: labels,
        datasets: [
          { type: "bar", label: "Enrollments", data: series.enrollments, yAxisID: "count",
            backgroundColor: "rgba(79, 70, 229, 0.55)", borderRadius: 3 },
          { type: "line", label: "Earnings", data: series.earnings, yAxisID: "money",
            borderColor: "#0f766e", backgroundColor: "#0f766e", tension: 0.3, pointRadius: 2 }
        ]
      },
      options: {
        responsive: true, maintainAspectRatio: false, animation: false,
        interaction: { mode: "index", intersect: false },
        scales: {
          count: { position: "left", beginAtZero: true, ticks: { precision: 0 },
                   title: { display: true, text: "Enrollments" } },
          money: { position: "right", beginAtZero: true, grid: { drawOnChartArea: false },
                   title: { display: true, text: "Earnings" } }
        }
      }
    });
    canvas.dataset.drawn = "true";
  }
  if (document.readyState === "loading") { document.addEventListener("DOMContentLoaded", draw); } else { draw(); }
})();
