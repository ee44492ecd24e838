// 双监控 cockpit charts. The data comes from the page (json_script "cockpit-data"), computed once per
// request by selectors.monitoring.cockpit; this file only draws it.
(function () {
  "use strict";
  var el = document.getElementById("cockpit-data");
  if (!el || typeof echarts === "undefined") { return; }
  var data = JSON.parse(el.textContent);
  var LIGHT = { green: "#2e9e6b", yellow: "#f6c343", red: "#c8102e", grey: "#adb5bd" };
  var palette = ["#0d4fa8", "#3b7dd8", "#6aa3e8", "#f6c343", "#c8102e", "#2e9e6b", "#7a5cc4", "#e07b39", "#5a6a85", "#1b998b"];
  var charts = [];

  function fmt(v, digits) {
    if (v === null || v === undefined) { return "—"; }
    return Number(v).toLocaleString("zh-CN", { maximumFractionDigits: digits === undefined ? 2 : digits });
  }
  function short(name) { return name.length > 10 ? name.slice(0, 10) + "…" : name; }

  // 1. Execution rate of the project and of each line, against the time elapsed (a mark line).
  var budgetEl = document.getElementById("chart-budget");
  if (budgetEl) {
    var rows = [data.budget].concat(data.lines);
    var chart1 = echarts.init(budgetEl);
    chart1.setOption({
      grid: { left: 150, right: 40, top: 30, bottom: 30 },
      tooltip: {
        trigger: "item",
        formatter: function (p) {
          var r = rows[p.dataIndex];
          return r.label + "<br>执行率：" + fmt(r.rate) + "%（时间进度 " + fmt(r.time) + "%）<br>已执行 " +
            fmt(r.executed_wan) + " 万元 / 预算 " + fmt(r.budget_wan) + " 万元";
        }
      },
      xAxis: { type: "value", name: "%", max: function (v) { return Math.max(100, Math.ceil(v.max / 10) * 10); } },
      yAxis: { type: "category", inverse: true, data: rows.map(function (r) { return short(r.label); }) },
      series: [{
        type: "bar",
        name: "预算执行率",
        barMaxWidth: 18,
        data: rows.map(function (r) {
          return { value: r.rate === null ? 0 : r.rate, itemStyle: { color: LIGHT[r.light] } };
        }),
        label: { show: true, position: "right", formatter: function (p) { return fmt(p.value, 1) + "%"; } },
        markLine: {
          symbol: "none",
          lineStyle: { color: "#0d4fa8", type: "dashed" },
          label: { position: "insideEndTop", formatter: "时间进度 " + fmt(data.budget.time, 1) + "%" },
          data: [{ xAxis: data.budget.time }]
        }
      }]
    });
    charts.push(chart1);
  }

  // 2. Cumulative execution of each line by month (万元), stacked to the project's total.
  var linesEl = document.getElementById("chart-lines");
  if (linesEl) {
    var chart2 = echarts.init(linesEl);
    chart2.setOption({
      color: palette,
      grid: { left: 56, right: 16, top: 24, bottom: 70 },
      tooltip: { trigger: "axis", valueFormatter: function (v) { return fmt(v) + " 万元"; } },
      legend: { type: "scroll", bottom: 0, formatter: short },
      xAxis: { type: "category", data: data.months, boundaryGap: false },
      yAxis: { type: "value", name: "万元" },
      series: data.lines_monthly.map(function (s) {
        return { type: "line", name: s.name, stack: "total", areaStyle: { opacity: 0.25 }, symbol: "none", data: s.data };
      })
    });
    charts.push(chart2);
  }

  // 3. One indicator's year-to-date by month, the projection to December and the annual target.
  var trendEl = document.getElementById("chart-trend");
  var chooser = document.getElementById("trend-indicator");
  var chart3 = null;
  function drawTrend(index) {
    var t = data.trends[index];
    if (!t || !trendEl) { return; }
    if (!chart3) { chart3 = echarts.init(trendEl); charts.push(chart3); }
    var series = [
      { type: "line", name: "累计完成值", data: t.actual, connectNulls: true, itemStyle: { color: "#0d4fa8" } },
      { type: "line", name: "全年预计", data: t.projection, symbol: "none", lineStyle: { type: "dashed" }, itemStyle: { color: "#e07b39" } }
    ];
    if (t.target !== null) {
      series.push({ type: "line", name: "年度指标值", symbol: "none", data: t.months.map(function () { return t.target; }),
        lineStyle: { type: "dotted" }, itemStyle: { color: "#c8102e" } });
    }
    chart3.setOption({
      grid: { left: 70, right: 24, top: 40, bottom: 40 },
      title: { text: t.name, left: "center", textStyle: { fontSize: 13 } },
      tooltip: { trigger: "axis", valueFormatter: function (v) { return fmt(v) + (t.unit || ""); } },
      legend: { bottom: 0 },
      xAxis: { type: "category", data: t.months },
      yAxis: { type: "value", name: t.unit || "", scale: true },
      series: series
    }, true);
  }
  if (data.trends.length) {
    drawTrend(0);
    if (chooser) { chooser.addEventListener("change", function () { drawTrend(Number(chooser.value)); }); }
  }

  window.addEventListener("resize", function () { charts.forEach(function (c) { c.resize(); }); });
})();
