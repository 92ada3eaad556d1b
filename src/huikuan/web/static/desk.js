/* The log-a-contact form: show only the chosen excuse's facts and call-assistant text.
   Without this script every excuse stays visible and the server reads only the chosen one's. */
(function () {
  "use strict";
  function start() {
    var select = document.getElementById("excuse-select");
    if (!select) { return; }
    function show() {
      var blocks = document.querySelectorAll("[data-excuse]");
      for (var i = 0; i < blocks.length; i += 1) {
        var chosen = blocks[i].getAttribute("data-excuse") === select.value;
        blocks[i].hidden = !chosen;
        if (blocks[i].tagName === "FIELDSET") { blocks[i].disabled = !chosen; }
      }
    }
    select.addEventListener("change", show);
    show();
  }
  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", start);
  } else {
    start();
  }
}());
