// Click a graph or a picture to see it at its natural size; click again (or press Escape) to close.
// Graphs and pictures shrink to fit the column (on a phone their text can get small): this is the way back.
document.addEventListener("click", function (event) {
  var open = document.querySelector(".gv-zoomed");
  if (open) { open.remove(); return; }
  var target = event.target.closest && (event.target.closest(".gv-rich svg") || event.target.closest("article img"));
  if (!target) return;
  var layer = document.createElement("div");
  layer.className = "gv-zoomed";
  var copy = target.cloneNode(true);
  copy.style.minWidth = "";
  copy.style.maxWidth = "none";
  if (target.tagName.toLowerCase() === "svg") {
    copy.removeAttribute("width");
    copy.style.width = target.getAttribute("data-natural-width") || "";
  } else {
    copy.style.width = copy.naturalWidth ? copy.naturalWidth + "px" : "";
  }
  layer.appendChild(copy);
  document.body.appendChild(layer);
});
document.addEventListener("keydown", function (event) {
  var open = document.querySelector(".gv-zoomed");
  if (open && event.key === "Escape") open.remove();
});
