#pragma once
// The live page of the admin port (GET /): one self-contained HTML document, inline CSS and JS,
// charts drawn on <canvas>, no external assets. It polls /metrics, /v1/status, /v1/produce/policy,
// /v1/tuner, /v1/topics and /v1/groups every second from the browser. The source is
// server/admin/live_page.html; the build embeds it (server/admin/embed_page.cmake) into a generated
// source that defines this array, NUL-terminated. Serve it as text/html; charset=utf-8.

namespace server::admin {

extern const char live_page_html[];

}  // namespace server::admin
