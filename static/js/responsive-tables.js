// Wide tables scroll sideways inside their own box instead of widening the page, so no page
// is wider than a 390 px phone (WCAG 1.4.10, reflow). A box that does scroll becomes a named
// region keyboard users can focus and scroll with the arrow keys (WCAG 2.1.1); one that fits
// stays out of the tab order. The table itself is untouched: same element, same semantics.
(function () {
  "use strict";
  var boxes = [];

  function label(table) {
    var name = table.getAttribute("aria-label");
    if (!name && table.caption) name = table.caption.textContent.trim();
    return (name || "Table") + " (scrolls sideways)";
  }

  function mark() {
    boxes.forEach(function (box) {
      var table = box.querySelector("table");
      if (box.scrollWidth > box.clientWidth + 1) {
        box.setAttribute("tabindex", "0");
        box.setAttribute("role", "region");
        box.setAttribute("aria-label", label(table));
      } else {
        box.removeAttribute("tabindex");
        box.removeAttribute("role");
        box.removeAttribute("aria-label");
      }
    });
  }

  document.querySelectorAll("main table").forEach(function (table) {
    var box = table.parentElement;
    if (!box.classList.contains("table-scroll")) {  // a template may have wrapped it already
      box = document.createElement("div");
      box.className = "table-scroll";
      table.parentNode.insertBefore(box, table);
      box.appendChild(table);
    }
    boxes.push(box);
  });
  mark();
  // Re-check whenever a box or its table changes size: the window, a <details> opening, a
  // script filling a table, a web font arriving.
  var pending = null;
  function later() {
    window.clearTimeout(pending);
    pending = window.setTimeout(mark, 50);
  }
  if (window.ResizeObserver) {
    var watcher = new ResizeObserver(later);
    boxes.forEach(function (box) {
      watcher.observe(box);
      watcher.observe(box.querySelector("table"));
    });
  } else {
    window.addEventListener("resize", later);
    document.addEventListener("toggle", later, true);
  }
  window.addEventListener("load", mark);
})();
