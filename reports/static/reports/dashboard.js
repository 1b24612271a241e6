// The dashboard's ECharts charts; data comes from the json_script block (no inline script under CSP).
(function () {
  const data = JSON.parse(document.getElementById("chart-data").textContent);
  const listUrl = document.getElementById("chart-townships").dataset.listUrl;
  data.targets.forEach(function (t) {
    const el = document.getElementById("gauge-" + t.key);
    if (!el) return;
    echarts.init(el).setOption({
      animation: false,
      series: [{type: "gauge", min: 0, max: 100, radius: "95%", progress: {show: true, width: 10},
        axisLine: {lineStyle: {width: 10}}, axisLabel: {show: false}, splitLine: {show: false}, axisTick: {show: false},
        pointer: {show: false}, detail: {valueAnimation: false, formatter: function (v) { return v.toFixed(1) + "%"; }, fontSize: 22, offsetCenter: [0, "10%"]},
        data: [{value: t.rate}]}]
    });
  });
  const towns = echarts.init(document.getElementById("chart-townships"));
  towns.setOption({
    animation: false,
    grid: {containLabel: true, left: 10, right: 40, top: 10, bottom: 10},
    xAxis: {type: "value", max: 100, axisLabel: {formatter: "{value}%"}},
    yAxis: {type: "category", inverse: true, data: data.townships.map(function (t) { return t.name; })},
    tooltip: {formatter: "{b}：{c}%"},
    series: [{type: "bar", data: data.townships.map(function (t) { return t.rate; }), label: {show: true, position: "right", formatter: "{c}%"}}]
  });
  // Drill-down from the chart: a bar opens that township's undeclared employers.
  towns.on("click", function (p) {
    const q = new URLSearchParams(data.townships[p.dataIndex].query);
    q.set("declaration_status", "未申报");
    window.location = listUrl + "?" + q.toString();
  });
  echarts.init(document.getElementById("chart-sources")).setOption({
    animation: false,
    grid: {containLabel: true, left: 10, right: 20, top: 25, bottom: 10},
    legend: {data: ["首次发现", "须申报"]},
    tooltip: {trigger: "axis"},
    xAxis: {type: "value"},
    yAxis: {type: "category", inverse: true, data: data.sources.map(function (s) { return s.name; })},
    series: [
      {name: "首次发现", type: "bar", data: data.sources.map(function (s) { return s.added; })},
      {name: "须申报", type: "bar", data: data.sources.map(function (s) { return s.must; })}
    ]
  });
  // The campaign's course: each target's rate quarter by quarter, the 100% line and each deadline marked.
  const course = document.getElementById("chart-course");
  if (course && data.course.length) {
    const quarters = data.course.map(function (c) { return c.quarter; });
    const series = data.targets.map(function (t, i) {
      const deadline = data.deadlines[i];
      return {
        name: t.name, type: "line", data: data.course.map(function (c) { return c.rates[i]; }),
        label: {show: true, formatter: "{c}%"},
        markLine: quarters.indexOf(deadline.quarter) < 0 ? undefined : {symbol: "none", label: {formatter: deadline.name + "截止"},
          data: [{xAxis: deadline.quarter}]}
      };
    });
    series.push({name: "100%", type: "line", symbol: "none", lineStyle: {type: "dashed"}, data: quarters.map(function () { return 100; })});
    echarts.init(course).setOption({
      animation: false,
      grid: {containLabel: true, left: 10, right: 30, top: 35, bottom: 10},
      legend: {data: data.targets.map(function (t) { return t.name; })},
      tooltip: {trigger: "axis"},
      xAxis: {type: "category", data: quarters},
      yAxis: {type: "value", min: 0, max: 100, axisLabel: {formatter: "{value}%"}},
      series: series
    });
  }
})();

// The quarter chooser submits on change.
document.getElementById("quarter").addEventListener("change", function () { this.form.submit(); });
