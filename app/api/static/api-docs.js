// collabflow's API page: Swagger UI on /api/v1/openapi.json, from local files only (CSP: script-src 'self').
// Calls made from the page use the signed-in session; unsafe methods carry the page's CSRF token.
(function () {
  var csrf = document.querySelector('meta[name="csrf-token"]').getAttribute("content");
  window.ui = SwaggerUIBundle({
    url: document.body.getAttribute("data-spec-url"),
    dom_id: "#swagger-ui",
    deepLinking: true,
    validatorUrl: null,
    requestInterceptor: function (request) {
      var method = (request.method || "GET").toUpperCase();
      if (["GET", "HEAD", "OPTIONS"].indexOf(method) === -1) {
        request.headers["X-CSRFToken"] = csrf;
      }
      return request;
    },
  });
})();
