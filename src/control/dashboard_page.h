// The dashboard's single page: HTML, CSS and vanilla JS (src/control/web/dashboard.html, .css and
// .js, compiled in by cmake/embed.cmake), served as one page with the style sheet and the script
// inlined and no external assets (the machines and networks ka runs on may be closed). The script
// polls /api/session every second with the token of the page's own URL and draws the header, the
// chain, the nodes table, a throughput chart (inline SVG) and the log of the selected node
// (#node=NAME preselects one).
#pragma once

#include <string>
#include <string_view>

namespace ka::control {

// The style sheet and the script, exactly as inlined in the page (the server puts their SHA-256
// into the page's Content-Security-Policy).
std::string_view DashboardStyle();
std::string_view DashboardScript();
// The whole page.
std::string DashboardPage();

}  // namespace ka::control
