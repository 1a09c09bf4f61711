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
    // Tags start collapsed: with every tag open, Swagger UI 5 stops drawing the operation list
    // of this OpenAPI 3.1 document (135 operations) after the first tags, without an error.
    docExpansion: "none",
    persistAuthorization: false,
  });
})();
