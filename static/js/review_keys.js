// Review with the keyboard: A accepts, R rejects (unless typing in a field).
document.addEventListener("keydown", function (event) {
  if (event.target.closest("input, textarea, select") || event.ctrlKey || event.metaKey || event.altKey) return;
  var value = { a: "accept", r: "reject" }[event.key.toLowerCase()];
  var button = value && document.querySelector('#review-form button[value="' + value + '"]');
  if (button) { event.preventDefault(); button.click(); }
});
