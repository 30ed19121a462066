// Swagger UI over /openapi.json, started from a file because the pages allow no inline script.
"use strict";
window.addEventListener("DOMContentLoaded", () => {
  window.SwaggerUIBundle({ url: "openapi.json", dom_id: "#swagger-ui" });
});
