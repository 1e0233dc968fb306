// SOLEil's API documentation: Swagger UI (swagger-ui-dist 5.35.0, Apache-2.0, vendored next to this file) on the
// app's own OpenAPI document. A file, not an inline script, so the pages' Content-Security-Policy needs nothing extra.
window.addEventListener("load", () => {
  window.ui = SwaggerUIBundle({
    url: "/api/v1/openapi.json",
    dom_id: "#swagger-ui",
    deepLinking: true,
    validatorUrl: null,
    persistAuthorization: false,
  });
});
