// Dashboard charts, drawn with ECharts (installed by `make install`) from each table's own
// rows (the data-chart JSON). Without ECharts or JavaScript the tables are the page; with it,
// each chart gets a button that shows or hides the table under it.
(function () {
  "use strict";
  var PALETTE = ["#1f6feb", "#e8590c", "#2f9e44", "#ae3ec9", "#f59f00"];

  // `narrow`: a phone-width block, where a bar chart with many categories lies on its side
  // (names on the left, one per row) instead of rotating names into each other.
  function option(spec, onScreen, hasMap, narrow) {
    var text = onScreen ? "#fff" : "#333";
    // On the big screen, chart type grows with the screen (1080p → 18 px, 4K → 36 px).
    var size = onScreen ? Math.round(window.innerHeight / 60) : 12;
    var base = { color: PALETTE, tooltip: { trigger: spec.kind === "pie" ? "item" : "axis" },
      legend: { textStyle: { color: text, fontSize: size }, top: 0 },
      textStyle: { color: text, fontSize: size } };
    var s0 = spec.series[0] || { name: "", data: [] };
    if (spec.kind === "map" && hasMap) {
      var max = Math.max.apply(null, s0.data.concat([1]));
      base.tooltip = { trigger: "item" };
      base.visualMap = { min: 0, max: max, left: 0, bottom: 0, calculable: true,
        inRange: { color: ["#dbe9ff", "#1f4e8c"] }, textStyle: { color: text, fontSize: size },
        itemHeight: size * 8, itemWidth: size * 1.2 };
      base.series = [{ type: "map", map: "china", name: s0.name, roam: false, showLegendSymbol: false,
        data: spec.categories.map(function (c, i) { return { name: c, value: s0.data[i] }; }) }];
      return base;
    }
    if (spec.kind === "pie") {
      base.series = [{ type: "pie", radius: ["35%", "65%"], name: s0.name,
        data: spec.categories.map(function (c, i) { return { name: c, value: s0.data[i] }; }) }];
      return base;
    }
    if (spec.kind === "funnel") {
      base.tooltip = { trigger: "item" };
      base.series = [{ type: "funnel", sort: "none", name: s0.name, label: { color: text },
        data: spec.categories.map(function (c, i) { return { name: c, value: s0.data[i] }; }) }];
      return base;
    }
    // bar, line, and the map's ranked-bar fallback (provinces sorted by value)
    var cats = spec.categories, series = spec.series, horizontal = spec.kind === "map";
    var sideways = !horizontal && spec.kind === "bar" && narrow && cats.length > 6;
    if (sideways) {  // first category on top, as in the table
      horizontal = true;
      cats = cats.slice().reverse();
      series = series.map(function (s) { return { name: s.name, data: s.data.slice().reverse() }; });
    } else if (horizontal) {
      var order = cats.map(function (_, i) { return i; }).sort(function (a, b) { return s0.data[a] - s0.data[b]; });
      cats = order.map(function (i) { return spec.categories[i]; });
      series = [{ name: s0.name, data: order.map(function (i) { return s0.data[i]; }) }];
    }
    var cat = { type: "category", data: cats, axisLabel: { color: text, interval: 0, rotate: horizontal ? 0 : (cats.length > 6 ? 30 : 0) } };
    var val = { type: "value", axisLabel: { color: text } };
    base.grid = sideways ? { left: 8, right: 24, top: 30, bottom: 10, containLabel: true }
      : { left: horizontal ? 70 : 50, right: 20, top: 30, bottom: horizontal ? 20 : 60, containLabel: false };
    base.xAxis = horizontal ? val : cat;
    base.yAxis = horizontal ? cat : val;
    base.series = series.map(function (s) { return { type: spec.kind === "line" ? "line" : "bar", name: s.name, data: s.data }; });
    return base;
  }

  function addToggle(el) {
    var block = el.closest(".dash-block");
    var table = block && block.querySelector(".dash-table");
    if (!table) return;
    table.classList.add("collapsed");
    var btn = document.createElement("button");
    btn.type = "button";
    btn.className = "dash-toggle";
    var zh = document.documentElement.lang !== "en";
    var show = zh ? "显示表格" : "Show table", hide = zh ? "隐藏表格" : "Hide table";
    btn.textContent = show;
    btn.setAttribute("aria-expanded", "false");
    btn.addEventListener("click", function () {
      var open = table.classList.toggle("collapsed") === false;
      btn.textContent = open ? hide : show;
      btn.setAttribute("aria-expanded", open ? "true" : "false");
    });
    el.insertAdjacentElement("afterend", btn);
  }

  function draw(hasMap) {
    var charts = [];
    document.querySelectorAll("[data-chart]").forEach(function (el) {
      var spec = JSON.parse(el.getAttribute("data-chart"));
      if (!spec.categories.length) return;
      var onScreen = el.hasAttribute("data-screen");
      el.classList.add("drawn");
      var narrow = !onScreen && el.clientWidth < 560;
      if (narrow && spec.kind === "bar" && spec.categories.length > 6) {
        el.style.height = Math.max(el.clientHeight, 60 + 22 * spec.categories.length) + "px";
      }
      var chart = window.echarts.init(el, null, { renderer: "canvas" });
      chart.setOption(option(spec, onScreen, hasMap, narrow));
      charts.push(chart);
      if (!onScreen) addToggle(el);
    });
    window.addEventListener("resize", function () { charts.forEach(function (c) { c.resize(); }); });
  }

  function start() {
    if (!window.echarts) return;
    // The province shapes come from npm (china-geojson) beside ECharts; without them the map
    // is a ranked bar chart of the same column.
    fetch("/static/vendor/china.json").then(function (r) { return r.ok ? r.json() : null; })
      .then(function (geo) {
        if (geo) window.echarts.registerMap("china", geo);
        draw(!!geo);
      }).catch(function () { draw(false); });
  }
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", start);
  else start();
})();
