#include "cli/manual.h"

#include <gtest/gtest.h>
#include <stdlib.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>

#include "cli/manual_cmd.h"

namespace ka::cli {
namespace {

// A small command tree with one of each thing a page shows.
struct Tool {
  CLI::App app{"tool: copies things to many places", "tool"};
  int nodes = 0;
  std::string size = "4MiB", output, cache, secret;
  bool force = false;
  std::vector<std::string> files;

  Tool() {
    app.add_flag("-f,--force", force, "Overwrite what exists");
    app.add_option("--size", size, "Block size")->capture_default_str();
    app.add_option("-n,--nodes", nodes, "How many nodes")->required()->check(CLI::Range(1, 10));
    app.add_option("--secret-debug", secret, "Never shown")->group("");
    auto* copy = app.add_subcommand("copy", "Copy files");
    auto* out = copy->add_option("-o,--output", output, "Where to\\put them");
    auto* pos = copy->add_option("files", files, "The files to copy")->required();
    out->needs(pos);
    auto* net = app.add_subcommand("net", "Network things");
    net->require_subcommand(1);
    net->footer(
        ".starts with a dot\n'and a quote\n\nIndented:\n  tool net build --cache DIR\n\n"
        "All done. Exit status: 0 built; 1 failed.");
    auto* build = net->add_subcommand("build", "Build the network image");
    build->add_option("--cache", cache, "Cache directory")->check(CLI::ExistingDirectory);
    app.add_subcommand("internal", "A test tool")->group("");
  }

  std::map<std::string, std::string> Pages() {
    std::map<std::string, std::string> out;
    for (auto& p : MakeManPages(app, ManualInfo{"1.2.3", ""})) out[p.file] = p.text;
    return out;
  }
};

bool Has(const std::string& text, const std::string& part) { return text.find(part) != std::string::npos; }

TEST(ManualTest, OnePagePerVisibleCommand) {
  Tool t;
  auto pages = t.Pages();
  std::vector<std::string> names;
  for (const auto& [name, text] : pages) names.push_back(name);
  EXPECT_EQ(names, (std::vector<std::string>{"tool-copy.1", "tool-net-build.1", "tool-net.1", "tool.1"}));
}

TEST(ManualTest, HeaderAndNameFromTheTree) {
  Tool t;
  auto pages = t.Pages();
  EXPECT_TRUE(Has(pages["tool.1"], ".TH TOOL 1 \"\" \"tool 1.2.3\" \"User Commands\"\n"));
  EXPECT_TRUE(Has(pages["tool.1"], ".SH NAME\ntool \\- copies things to many places\n"));
  EXPECT_TRUE(Has(pages["tool-net-build.1"], ".TH TOOL\\-NET\\-BUILD 1 \"\" \"tool 1.2.3\""));
  EXPECT_TRUE(Has(pages["tool-net-build.1"], ".SH NAME\ntool\\-net\\-build \\- Build the network image\n"));
  auto dated = MakeManPages(t.app, ManualInfo{"1.2.3", "2026-12-07"});
  EXPECT_TRUE(Has(dated[0].text, ".TH TOOL 1 \"2026\\-12\\-07\" \"tool 1.2.3\""));
}

TEST(ManualTest, OptionWithDefault) {
  Tool t;
  EXPECT_TRUE(Has(t.Pages()["tool.1"], ".TP\n\\fB\\-\\-size\\fR \\fITEXT\\fR\nBlock size.\n.br\nDefault: 4MiB.\n"));
}

TEST(ManualTest, RequiredOptionWithRangeAndSynopsis) {
  Tool t;
  std::string page = t.Pages()["tool.1"];
  EXPECT_TRUE(Has(page,
                  ".TP\n\\fB\\-n\\fR, \\fB\\-\\-nodes\\fR \\fIINT\\fR\nHow many nodes.\n"
                  ".br\nValue: INT in [1 \\- 10].\n.br\nRequired.\n"));
  EXPECT_TRUE(Has(page,
                  ".SH SYNOPSIS\n\\fBtool\\fR \\fB\\-\\-nodes\\fR \\fIINT\\fR [\\fIOPTIONS\\fR] "
                  "[\\fICOMMAND\\fR [\\fIARGS\\fR]]\n"));
}

TEST(ManualTest, FlagHasNoPlaceholder) {
  Tool t;
  EXPECT_TRUE(Has(t.Pages()["tool.1"], ".TP\n\\fB\\-f\\fR, \\fB\\-\\-force\\fR\nOverwrite what exists.\n"));
}

TEST(ManualTest, PositionalAndNeeds) {
  Tool t;
  std::string page = t.Pages()["tool-copy.1"];
  EXPECT_TRUE(Has(page, ".SH SYNOPSIS\n\\fBtool copy\\fR [\\fIOPTIONS\\fR] \\fIfiles\\fR...\n"));
  EXPECT_TRUE(Has(page,
                  ".SH ARGUMENTS\n.TP\n\\fIfiles\\fR\nThe files to copy.\n.br\nRequired.\n"
                  ".br\nTakes several values.\n"));
  EXPECT_TRUE(Has(page, "Where to\\eput them.\n.br\nNeeds: files.\n"));
  EXPECT_TRUE(Has(page, ".SH SEE ALSO\n\\fBtool\\fR(1)\n"));
}

TEST(ManualTest, NestedSubcommands) {
  Tool t;
  auto pages = t.Pages();
  EXPECT_TRUE(Has(pages["tool.1"], ".SH COMMANDS\n.TP\n\\fBcopy\\fR\nCopy files\n.br\nSee \\fBtool\\-copy\\fR(1).\n"));
  EXPECT_TRUE(Has(pages["tool-net.1"], "\\fBtool net\\fR [\\fIOPTIONS\\fR] \\fICOMMAND\\fR [\\fIARGS\\fR]\n"));
  EXPECT_TRUE(Has(pages["tool-net.1"], ".SH SEE ALSO\n\\fBtool\\fR(1),\n\\fBtool\\-net\\-build\\fR(1)\n"));
  EXPECT_TRUE(Has(pages["tool-net-build.1"], "Cache directory.\n.br\nValue: DIR.\n"));
  EXPECT_TRUE(Has(pages["tool-net-build.1"], ".SH SEE ALSO\n\\fBtool\\-net\\fR(1)\n"));
}

TEST(ManualTest, FooterEscapedIndentedKeptExitStatusSection) {
  Tool t;
  std::string page = t.Pages()["tool-net.1"];
  EXPECT_TRUE(Has(page,
                  ".PP\n\\&.starts with a dot\n\\&'and a quote\n.PP\nIndented:\n.nf\n"
                  "  tool net build \\-\\-cache DIR\n.fi\n.PP\nAll done.\n"));
  EXPECT_TRUE(Has(page, ".SH EXIT STATUS\nExit status: 0 built; 1 failed.\n"));
}

TEST(ManualTest, RoffEscape) {
  EXPECT_EQ(RoffEscape(".x\\y-z\n'q 'r"), "\\&.x\\ey\\-z\n\\&'q 'r");
  EXPECT_EQ(RoffEscape("plain"), "plain");
}

TEST(ManualTest, HiddenItemsLeftOut) {
  Tool t;
  for (const auto& [name, text] : t.Pages()) {
    EXPECT_FALSE(Has(text, "secret")) << name;
    EXPECT_FALSE(Has(text, "internal")) << name;
  }
  EXPECT_FALSE(Has(MakeBashCompletion(t.app), "secret"));
  EXPECT_FALSE(Has(MakeBashCompletion(t.app), "internal"));
}

TEST(ManualTest, CompletionWordsAtEachLevel) {
  Tool t;
  std::string c = MakeBashCompletion(t.app);
  EXPECT_TRUE(Has(c,
                  "_tool_subcommands() {\n  case $1 in\n    tool) echo 'copy net' ;;\n"
                  "    tool-net) echo 'build' ;;\n  esac\n}\n"));
  EXPECT_TRUE(Has(c, "    tool) echo '-h --help -f --force --size -n --nodes' ;;\n"));
  EXPECT_TRUE(Has(c, "    tool-copy) echo '-h --help -o --output' ;;\n"));
  EXPECT_TRUE(Has(c, "    tool-net-build) echo '-h --help --cache' ;;\n"));
  EXPECT_TRUE(Has(c, "_tool_valued() {\n  case $1 in\n    tool) echo '--size -n --nodes' ;;\n"));
  EXPECT_TRUE(Has(c, "_tool_positional() {\n  case $1 in\n    tool-copy) echo 'yes' ;;\n  esac\n}\n"));
  EXPECT_TRUE(Has(c, "\ncomplete -F _tool tool\n"));
}

std::string Slurp(const std::string& path) {
  std::ifstream in(path);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

// Through the real files (a temporary directory): the cli folder's tests do not use testing/.
TEST(ManualTest, CommandWritesPagesAndCompletion) {
  char tmpl[] = "/tmp/ka-manual-test.XXXXXX";
  ASSERT_NE(mkdtemp(tmpl), nullptr);
  const std::string dir = tmpl;
  Tool t;
  ManualCommand cmd(t.app);
  t.app.parse(
      std::vector<std::string>{dir + "/tool", "--bash-completion", dir + "/man", "--man-dir", "manual", "3", "-n"});
  ASSERT_TRUE(cmd.parsed());
  EXPECT_EQ(cmd.Run(t.app, "1.2.3", os::DefaultEnv()), 0);
  EXPECT_TRUE(Has(Slurp(dir + "/man/tool.1"), ".TH TOOL 1"));
  EXPECT_TRUE(std::filesystem::exists(dir + "/man/tool-net-build.1"));
  EXPECT_FALSE(std::filesystem::exists(dir + "/man/tool-manual.1"));  // hidden
  EXPECT_TRUE(Has(Slurp(dir + "/tool"), "complete -F _tool tool"));
  std::filesystem::remove_all(dir + "/man");
  { std::ofstream(dir + "/man") << "a file, not a directory"; }
  EXPECT_EQ(cmd.Run(t.app, "1.2.3", os::DefaultEnv()), 1);
  std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace ka::cli
