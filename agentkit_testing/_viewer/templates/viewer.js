(function () {
  "use strict";
  var links = Array.prototype.slice.call(document.querySelectorAll("#runs a"));
  var sections = Array.prototype.slice.call(document.querySelectorAll("section.run[data-run]"));
  var picker = document.getElementById("picker");
  var search = document.getElementById("search");
  var counts = document.getElementById("counts");
  var byId = {};
  sections.forEach(function (section) { byId[section.getAttribute("data-run")] = section; });

  function show(id) {
    if (!byId[id]) { return; }
    sections.forEach(function (section) { section.classList.toggle("hidden", section !== byId[id]); });
    links.forEach(function (link) { link.classList.toggle("current", link.getAttribute("data-run") === id); });
    if (picker && picker.value !== id) { picker.value = id; }
  }

  function fromHash() {
    var id = decodeURIComponent(window.location.hash.slice(1));
    if (byId[id]) { show(id); return true; }
    return false;
  }

  function filter() {
    var words = search.value.toLowerCase().split(/\s+/).filter(Boolean);
    var shown = 0;
    var first = null;
    links.forEach(function (link) {
      var text = link.getAttribute("data-text") || "";
      var match = words.every(function (word) { return text.indexOf(word) !== -1; });
      link.classList.toggle("hidden", !match);
      if (match) { shown += 1; if (first === null) { first = link.getAttribute("data-run"); } }
    });
    counts.textContent = shown + " of " + links.length + " runs";
    if (first !== null) { show(first); }
  }

  links.forEach(function (link) {
    link.addEventListener("click", function () { show(link.getAttribute("data-run")); });
  });
  if (picker) { picker.addEventListener("change", function () { window.location.hash = picker.value; show(picker.value); }); }
  if (search) { search.addEventListener("input", filter); }
  window.addEventListener("hashchange", fromHash);
  var highlighted = document.querySelector(".node.highlight");
  if (highlighted) {
    show(highlighted.closest("section.run").getAttribute("data-run"));
    highlighted.scrollIntoView({ block: "center" });
  } else if (!fromHash() && sections.length) {
    show(sections[0].getAttribute("data-run"));
  }
}());
