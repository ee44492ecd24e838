// Home charts: the data comes from the page (json_script), computed by scoped selectors on the server.
(function () {
  "use strict";
  function data(id) {
    var el = document.getElementById(id);
    return el ? JSON.parse(el.textContent) : null;
  }
  var palette = ["#0d4fa8", "#3b7dd8", "#6aa3e8", "#f6c343", "#c8102e", "#2e9e6b", "#7a5cc4", "#e07b39", "#5a6a85"];
  var charts = [];
  var years = data("established-data");
  var yearEl = document.getElementById("chart-established");
  if (years && years.length && yearEl) {
    var c1 = echarts.init(yearEl);
    c1.setOption({
      color: palette,
      grid: { left: 48, right: 16, top: 24, bottom: 32 },
      tooltip: { trigger: "axis" },
      xAxis: { type: "category", data: years.map(function (r) { return String(r.year); }), axisTick: { alignWithLabel: true } },
      yAxis: { type: "value", minInterval: 1 },
      series: [{ type: "bar", name: yearEl.getAttribute("aria-label"), data: years.map(function (r) { return r.count; }), barMaxWidth: 28 }]
    });
    charts.push(c1);
  }
  var types = data("entity-type-data");
  var typeEl = document.getElementById("chart-types");
  if (types && types.length && typeEl) {
    var c2 = echarts.init(typeEl);
    c2.setOption({
      color: palette,
      tooltip: { trigger: "item", formatter: "{b}：{c}（{d}%）" },
      legend: { type: "scroll", bottom: 0 },
      series: [{ type: "pie", radius: ["38%", "66%"], center: ["50%", "44%"], label: { show: false },
        data: types.map(function (r) { return { name: r.label, value: r.count }; }) }]
    });
    charts.push(c2);
  }
  window.addEventListener("resize", function () { charts.forEach(function (c) { c.resize(); }); });
})();
