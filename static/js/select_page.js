// 全选本页: a checkbox marked data-select-page="NAME" ticks or clears every checkbox called NAME on the page.
document.querySelectorAll("[data-select-page]").forEach(function (toggle) {
  var boxes = document.querySelectorAll('input[type="checkbox"][name="' + toggle.dataset.selectPage + '"]');
  toggle.addEventListener("change", function () {
    boxes.forEach(function (box) { box.checked = toggle.checked; });
  });
});
