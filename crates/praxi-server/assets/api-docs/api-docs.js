// Starts Swagger UI on /api/docs/ (a file, not an inline script: the page runs under a strict CSP).
"use strict";
(function () {
  var root = document.getElementById("swagger-ui");
  if (!root || typeof window.SwaggerUIBundle !== "function") {
    return;
  }
  window.ui = window.SwaggerUIBundle({
    url: root.getAttribute("data-spec-url") || "/api/schema/",
    domNode: root,
    deepLinking: true,
    persistAuthorization: false,
  });
})();
