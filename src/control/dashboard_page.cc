#include "control/dashboard_page.h"

#include "control/web/dashboard.css.h"
#include "control/web/dashboard.html.h"
#include "control/web/dashboard.js.h"

namespace ka::control {
namespace {

constexpr std::string_view kStyleSlot = "<style></style>";
constexpr std::string_view kScriptSlot = "<script></script>";
static_assert(web::kDashboardHtml.find(kStyleSlot) != std::string_view::npos,
              "dashboard.html needs an empty <style></style> for dashboard.css");
static_assert(web::kDashboardHtml.find(kScriptSlot) != std::string_view::npos,
              "dashboard.html needs an empty <script></script> for dashboard.js");

// The content of an inlined element: the file on lines of its own.
std::string Inlined(std::string_view file) { return "\n" + std::string(file); }

// Fills the empty element SLOT of PAGE (its first occurrence) with CONTENT.
void Fill(std::string& page, std::string_view slot, std::string_view content) {
  const std::size_t open = page.find(slot) + slot.find("</");
  page.insert(open, content);
}

}  // namespace

std::string_view DashboardStyle() {
  static const std::string style = Inlined(web::kDashboardCss);
  return style;
}

std::string_view DashboardScript() {
  static const std::string script = Inlined(web::kDashboardJs);
  return script;
}

std::string DashboardPage() {
  std::string page(web::kDashboardHtml);
  page.reserve(page.size() + DashboardStyle().size() + DashboardScript().size());
  Fill(page, kStyleSlot, DashboardStyle());
  Fill(page, kScriptSlot, DashboardScript());
  return page;
}

}  // namespace ka::control
