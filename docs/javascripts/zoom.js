// Click a graph to see it at its natural size; click again (or press Escape) to close.
document.addEventListener("click", function (event) {
  var open = document.querySelector(".gv-zoomed");
  if (open) { open.remove(); return; }
  var svg = event.target.closest && event.target.closest(".gv-rich svg");
  if (!svg) return;
  var layer = document.createElement("div");
  layer.className = "gv-zoomed";
  var copy = svg.cloneNode(true);
  copy.removeAttribute("width");
  copy.style.minWidth = "";
  copy.style.maxWidth = "none";
  copy.style.width = svg.getAttribute("data-natural-width") || "";
  layer.appendChild(copy);
  document.body.appendChild(layer);
});
document.addEventListener("keydown", function (event) {
  var open = document.querySelector(".gv-zoomed");
  if (open && event.key === "Escape") open.remove();
});
