// Draws the course insight charts with Chart.js (from npm, see package.json).
// Each <canvas data-chart="name" data-source="id"> reads its figures from the
// JSON block with that id; the table behind each chart holds the same figures
// for screen readers and for anyone without JavaScript. Runs on page load and
// on content htmx swaps in (the page's fragment), never twice on one canvas.
(function () {
  "use strict";
  var INK = "#4f46e5", GOOD = "#0f766e", WARN = "#a15c07";

  function dayLabel(day) {
    return new Date(day + "T00:00:00").toLocaleDateString(undefined, { day: "numeric", month: "short" });
  }

  function percentAxis() {
    return { beginAtZero: true, max: 100, ticks: { callback: function (v) { return v + "%"; } } };
  }

  var BUILD = {
    trend: function (d) {
      return {
        type: "bar",
        data: { labels: d.labels.map(dayLabel),
                datasets: [{ label: "New enrollments", data: d.values, backgroundColor: "rgba(79, 70, 229, 0.55)",
                             borderRadius: 2 }] },
        options: { scales: { y: { beginAtZero: true, ticks: { precision: 0 } },
                             x: { ticks: { maxTicksLimit: 12, autoSkip: true } } },
                   plugins: { legend: { display: false } } }
      };
    },
    funnel: function (d) {
      return {
        type: "bar",
        data: { labels: d.labels,
                datasets: [{ label: "Students who completed every lesson", data: d.values,
                             backgroundColor: GOOD, borderRadius: 3 }] },
        options: {
          indexAxis: "y",
          scales: { x: { beginAtZero: true, suggestedMax: d.students, ticks: { precision: 0 } } },
          plugins: {
            legend: { display: false },
            tooltip: { callbacks: { label: function (ctx) {
              var share = d.shares[ctx.dataIndex];
              return ctx.formattedValue + " of " + d.students + (share === null ? "" : " (" + share + "%)");
            } } }
          }
        }
      };
    },
    dropoff: function (d) {
      return {
        type: "line",
        data: { labels: d.labels,
                datasets: [{ label: "Share who completed the lesson", data: d.values, borderColor: INK,
                             backgroundColor: "rgba(79, 70, 229, 0.12)", fill: true, tension: 0.2, pointRadius: 3 }] },
        options: {
          scales: { y: percentAxis(), x: { ticks: { autoSkip: true, maxRotation: 45 } } },
          plugins: {
            legend: { display: false },
            tooltip: { callbacks: { label: function (ctx) {
              return ctx.formattedValue + "% (" + d.counts[ctx.dataIndex] + " students)";
            } } }
          }
        }
      };
    },
    ratings: function (d) {
      return {
        type: "bar",
        data: { labels: d.labels.slice().reverse(),
                datasets: [{ label: "Visible reviews", data: d.values.slice().reverse(), backgroundColor: WARN,
                             borderRadius: 3 }] },
        options: { indexAxis: "y", scales: { x: { beginAtZero: true, ticks: { precision: 0 } } },
                   plugins: { legend: { display: false } } }
      };
    }
  };

  // The reviews inbox: the average rating per month (a month without a review is a gap).
  BUILD.rating_trend = function (d) {
    return {
      type: "line",
      data: { labels: d.labels,
              datasets: [{ label: "Average rating", data: d.values, borderColor: WARN, spanGaps: true,
                           tension: 0.2, pointRadius: 3 }] },
      options: { scales: { y: { min: 1, max: 5, ticks: { stepSize: 1 } } }, plugins: { legend: { display: false } } }
    };
  };

  // The platform overview (and the organization's home): gross sales and platform fees by month.
  BUILD.revenue_months = function (d) {
    return {
      type: "bar",
      data: { labels: d.labels,
              datasets: [{ label: "Gross sales", data: d.gross, backgroundColor: INK, borderRadius: 2 },
                         { label: "Platform fees", data: d.fees, backgroundColor: WARN, borderRadius: 2 }] },
      options: { scales: { y: { beginAtZero: true } } }
    };
  };

  function draw(root) {
    if (!window.Chart) { return; }
    var canvases = (root || document).querySelectorAll("canvas[data-chart]");
    Array.prototype.forEach.call(canvases, function (canvas) {
      var build = BUILD[canvas.dataset.chart];
      var source = document.getElementById(canvas.dataset.source);
      if (!build || !source || canvas.dataset.drawn === "true") { return; }
      var config = build(JSON.parse(source.textContent));
      config.options.responsive = true;
      config.options.maintainAspectRatio = false;
      config.options.animation = false;
      new window.Chart(canvas, config);
      canvas.dataset.drawn = "true";
    });
  }

  function start() {
    draw(document);
    document.body.addEventListener("htmx:afterSettle", function (event) { draw(event.target); });
  }
  if (document.readyState === "loading") { document.addEventListener("DOMContentLoaded", start); } else { start(); }
})();
