#include "cli/manual.h"

#include <algorithm>
#include <cctype>
#include <set>
#include <sstream>

namespace ka::cli {

namespace {

bool Visible(const CLI::Option* o) { return !o->get_group().empty(); }

// The named subcommands a user can type (an option group is a nameless App; a hidden one has
// an empty group).
std::vector<const CLI::App*> VisibleSubcommands(const CLI::App& app) {
  return app.get_subcommands(
      [](const CLI::App* s) { return !s->get_name().empty() && !s->get_group().empty() && !s->get_disabled(); });
}

// The options of `app` and of its option groups (nameless subcommands), hidden ones left out.
std::vector<const CLI::Option*> VisibleOptions(const CLI::App& app) {
  std::vector<const CLI::Option*> out = app.get_options(Visible);
  for (const CLI::App* g : app.get_subcommands([](const CLI::App* s) { return s->get_name().empty(); })) {
    if (g->get_group().empty()) continue;
    for (const CLI::Option* o : g->get_options(Visible)) out.push_back(o);
  }
  return out;
}

bool IsPositional(const CLI::Option* o) { return o->get_snames().empty() && o->get_lnames().empty(); }

// "serve", "netboot build": the command path below the root ("" for the root).
std::string CommandPath(const CLI::App& app) {
  std::string path;
  for (const CLI::App* a = &app; a->get_parent() != nullptr; a = a->get_parent())
    path = path.empty() ? a->get_name() : a->get_name() + " " + path;
  return path;
}

const CLI::App& Root(const CLI::App& app) {
  const CLI::App* a = &app;
  while (a->get_parent() != nullptr) a = a->get_parent();
  return *a;
}

// "ka", "ka serve": what a user types.
std::string Invocation(const CLI::App& app) {
  std::string path = CommandPath(app);
  return path.empty() ? Root(app).get_name() : Root(app).get_name() + " " + path;
}

// "ka", "ka-serve", "ka-netboot-build": the page's name.
std::string PageName(const CLI::App& app) {
  std::string name = Invocation(app);
  std::replace(name.begin(), name.end(), ' ', '-');
  return name;
}

// The option's names as a user types them: "-n", "--nodes".
std::vector<std::string> Names(const CLI::Option* o) {
  std::vector<std::string> names;
  for (const auto& s : o->get_snames()) names.push_back("-" + s);
  for (const auto& l : o->get_lnames()) names.push_back("--" + l);
  return names;
}

bool TakesValue(const CLI::Option* o) { return o->get_type_size() != 0 && o->get_items_expected_max() != 0; }

// get_type_name() is "INT:INT in [1 - 10000]": the placeholder, then each validator's text.
std::string Placeholder(const CLI::Option* o) {
  std::string t = o->get_type_name();
  t = t.substr(0, t.find(':'));
  if (t.empty()) t = "VALUE";
  return t;
}

std::vector<std::string> Constraints(const CLI::Option* o) {
  std::vector<std::string> out;
  std::string t = o->get_type_name();
  size_t pos = t.find(':');
  while (pos != std::string::npos) {
    size_t next = t.find(':', pos + 1);
    std::string c = t.substr(pos + 1, next == std::string::npos ? std::string::npos : next - pos - 1);
    if (!c.empty()) out.push_back(c);
    pos = next;
  }
  return out;
}

std::string Bold(const std::string& s) { return "\\fB" + RoffEscape(s) + "\\fR"; }
std::string Italic(const std::string& s) { return "\\fI" + RoffEscape(s) + "\\fR"; }

std::string JoinSortedNames(const std::set<CLI::Option*>& opts) {
  std::vector<std::string> names;
  for (const CLI::Option* o : opts) names.push_back(o->get_name());
  std::sort(names.begin(), names.end());
  std::string out;
  for (const auto& n : names) out += (out.empty() ? "" : ", ") + n;
  return out;
}

bool Repeatable(const CLI::Option* o) { return o->get_expected_max() > 1; }

// Text (a description, a footer) as roff: paragraphs at blank lines, indented lines kept as
// they are (tables, examples), the other lines filled.
void AppendText(std::ostringstream& out, const std::string& text) {
  std::istringstream in(text);
  std::string line;
  bool nofill = false, pending_break = false, any = false;
  while (std::getline(in, line)) {
    if (line.find_first_not_of(" \t") == std::string::npos) {
      pending_break = any;
      continue;
    }
    bool indented = line[0] == ' ' || line[0] == '\t';
    if (pending_break) {
      if (nofill) out << ".fi\n";
      nofill = false;
      out << ".PP\n";
      pending_break = false;
    }
    if (indented && !nofill) out << ".nf\n";
    if (!indented && nofill) out << ".fi\n";
    nofill = indented;
    out << RoffEscape(line) << "\n";
    any = true;
  }
  if (nofill) out << ".fi\n";
}

// A footer's paragraphs split into the description and the "Exit status: ..." text (from that
// phrase to the end of its paragraph), which gets its own section.
void SplitExitStatus(const std::string& footer, std::string& rest, std::string& exit_status) {
  std::istringstream in(footer);
  std::string line, para;
  std::vector<std::string> paras;
  while (std::getline(in, line)) {
    if (line.find_first_not_of(" \t") == std::string::npos) {
      if (!para.empty()) paras.push_back(para);
      para.clear();
    } else {
      para += line + "\n";
    }
  }
  if (!para.empty()) paras.push_back(para);
  for (const auto& p : paras) {
    size_t at = p.find("Exit status");
    if (at != std::string::npos && exit_status.empty()) {
      std::string before = p.substr(0, at);
      before.erase(before.find_last_not_of(" \t\n") + 1);  // npos + 1 == 0: all of it
      if (!before.empty()) rest += before + "\n\n";
      exit_status = p.substr(at);
    } else {
      rest += p + "\n";
    }
  }
}

// The description without a leading "NAME: " ("ka: duplicate ..." -> "duplicate ...").
std::string Description(const CLI::App& app) {
  std::string d = app.get_description();
  std::string prefix = app.get_name() + ": ";
  if (d.rfind(prefix, 0) == 0) d = d.substr(prefix.size());
  return d;
}

// The NAME line's text: the description's first line.
std::string Summary(const CLI::App& app) {
  std::string d = Description(app);
  d = d.substr(0, d.find('\n'));
  return d.empty() ? app.get_name() : d;
}

void AppendSynopsis(std::ostringstream& out, const CLI::App& app) {
  out << ".SH SYNOPSIS\n" << Bold(Invocation(app));
  for (const CLI::Option* o : VisibleOptions(app)) {
    if (IsPositional(o) || !o->get_required()) continue;
    out << " " << Bold(Names(o).back());
    if (TakesValue(o)) out << " " << Italic(Placeholder(o));
  }
  out << " [" << Italic("OPTIONS") << "]";
  for (const CLI::Option* o : VisibleOptions(app)) {
    if (!IsPositional(o)) continue;
    std::string p = Italic(o->get_name(true)) + (Repeatable(o) ? "..." : "");
    out << " " << (o->get_required() ? p : "[" + p + "]");
  }
  if (!VisibleSubcommands(app).empty()) {
    std::string c = Italic("COMMAND") + " [" + Italic("ARGS") + "]";
    out << " " << (app.get_require_subcommand_min() > 0 ? c : "[" + c + "]");
  }
  out << "\n";
}

void AppendOption(std::ostringstream& out, const CLI::Option* o) {
  out << ".TP\n";
  if (IsPositional(o)) {
    out << Italic(o->get_name(true));
  } else {
    std::string head;
    for (const auto& n : Names(o)) head += (head.empty() ? "" : ", ") + Bold(n);
    out << head;
    if (TakesValue(o)) out << " " << Italic(Placeholder(o));
  }
  out << "\n";
  std::string desc = o->get_description();
  if (!desc.empty()) {
    if (desc.back() != '.') desc += '.';
    out << RoffEscape(desc) << "\n";
  }
  std::vector<std::string> notes;
  for (const auto& c : Constraints(o)) notes.push_back("Value: " + c + ".");
  if (!o->get_default_str().empty()) notes.push_back("Default: " + o->get_default_str() + ".");
  if (o->get_required()) notes.push_back("Required.");
  if (Repeatable(o)) notes.push_back(IsPositional(o) ? "Takes several values." : "Repeatable.");
  if (!o->get_envname().empty()) notes.push_back("Environment: " + o->get_envname() + ".");
  if (!o->get_excludes().empty()) notes.push_back("Excludes: " + JoinSortedNames(o->get_excludes()) + ".");
  if (!o->get_needs().empty()) notes.push_back("Needs: " + JoinSortedNames(o->get_needs()) + ".");
  for (const auto& n : notes) out << ".br\n" << RoffEscape(n) << "\n";
}

ManPage MakePage(const CLI::App& app, const ManualInfo& info) {
  std::ostringstream out;
  std::string name = PageName(app);
  std::string upper = name;
  for (auto& c : upper) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  const std::string& root = Root(app).get_name();
  out << ".\\\" Generated by `" << root << " manual` from " << root
      << "'s option definitions (the same as --help); do not edit.\n";
  out << ".TH " << RoffEscape(upper) << " 1 \"" << RoffEscape(info.date) << "\" \""
      << RoffEscape(root + (info.version.empty() ? "" : " " + info.version)) << "\" \"User Commands\"\n";
  out << ".SH NAME\n" << RoffEscape(name + " - " + Summary(app)) << "\n";
  AppendSynopsis(out, app);

  std::string rest, exit_status;
  SplitExitStatus(app.get_footer(), rest, exit_status);
  out << ".SH DESCRIPTION\n";
  AppendText(out, Description(app));
  if (rest.find_first_not_of(" \t\n") != std::string::npos) {
    out << ".PP\n";
    AppendText(out, rest);
  }

  std::vector<const CLI::Option*> opts = VisibleOptions(app);
  bool has_positional = std::any_of(opts.begin(), opts.end(), IsPositional);
  if (has_positional) {
    out << ".SH ARGUMENTS\n";
    for (const CLI::Option* o : opts)
      if (IsPositional(o)) AppendOption(out, o);
  }
  if (std::any_of(opts.begin(), opts.end(), [](const CLI::Option* o) { return !IsPositional(o); })) {
    out << ".SH OPTIONS\n";
    for (const CLI::Option* o : opts)
      if (!IsPositional(o)) AppendOption(out, o);
  }

  std::vector<const CLI::App*> subs = VisibleSubcommands(app);
  if (!subs.empty()) {
    out << ".SH COMMANDS\n";
    for (const CLI::App* s : subs) {
      out << ".TP\n" << Bold(s->get_name()) << "\n" << RoffEscape(Summary(*s)) << "\n";
      out << ".br\nSee " << Bold(PageName(*s)) << "(1).\n";
    }
  }
  if (!exit_status.empty()) {
    out << ".SH EXIT STATUS\n";
    AppendText(out, exit_status);
  }
  const CLI::Option* config = app.get_option_no_throw("--config");
  if (config != nullptr && Visible(config)) {
    std::string desc = config->get_description();
    if (!desc.empty() && desc.back() != '.') desc += '.';
    out << ".SH FILES\n.TP\n" << Italic("FILE") << " given to " << Bold("--config") << "\n" << RoffEscape(desc) << "\n";
  }

  std::vector<std::string> see;
  if (app.get_parent() != nullptr) see.push_back(PageName(*app.get_parent()));
  for (const CLI::App* s : subs) see.push_back(PageName(*s));
  if (!see.empty()) {
    out << ".SH SEE ALSO\n";
    for (size_t i = 0; i < see.size(); ++i) out << Bold(see[i]) << "(1)" << (i + 1 < see.size() ? ",\n" : "\n");
  }
  return ManPage{name + ".1", out.str()};
}

void CollectPages(const CLI::App& app, const ManualInfo& info, std::vector<ManPage>& pages) {
  pages.push_back(MakePage(app, info));
  for (const CLI::App* s : VisibleSubcommands(app)) CollectPages(*s, info, pages);
}

// Shell-safe word lists: option and command names are [A-Za-z0-9_-] in practice; anything else
// is dropped rather than quoted.
bool ShellWord(const std::string& w) {
  return !w.empty() && std::all_of(w.begin(), w.end(), [](char c) {
    return std::isalnum(static_cast<unsigned char>(c)) != 0 || c == '-' || c == '_' || c == '.';
  });
}

std::string Words(const std::vector<std::string>& words) {
  std::string out;
  for (const auto& w : words)
    if (ShellWord(w)) out += (out.empty() ? "" : " ") + w;
  return out;
}

struct CompletionEntry {
  std::string key;  // "ka", "ka-netboot-build"
  std::vector<std::string> subcommands, options, valued;
  bool positional = false;
};

void CollectCompletion(const CLI::App& app, std::vector<CompletionEntry>& out) {
  CompletionEntry e;
  e.key = PageName(app);
  for (const CLI::App* s : VisibleSubcommands(app)) e.subcommands.push_back(s->get_name());
  for (const CLI::Option* o : VisibleOptions(app)) {
    if (IsPositional(o)) {
      e.positional = true;
      continue;
    }
    for (const auto& n : Names(o)) {
      e.options.push_back(n);
      if (TakesValue(o)) e.valued.push_back(n);
    }
  }
  out.push_back(e);
  for (const CLI::App* s : VisibleSubcommands(app)) CollectCompletion(*s, out);
}

}  // namespace

std::string RoffEscape(std::string_view text) {
  std::string out;
  bool line_start = true;
  for (char c : text) {
    if (line_start && (c == '.' || c == '\'')) out += "\\&";
    if (c == '\\') {
      out += "\\e";
    } else if (c == '-') {
      out += "\\-";
    } else {
      out += c;
    }
    line_start = c == '\n';
  }
  return out;
}

std::vector<ManPage> MakeManPages(const CLI::App& app, const ManualInfo& info) {
  std::vector<ManPage> pages;
  CollectPages(app, info, pages);
  return pages;
}

std::string MakeBashCompletion(const CLI::App& app) {
  std::vector<CompletionEntry> entries;
  CollectCompletion(app, entries);
  const std::string& name = app.get_name();
  std::string fn = "_" + name;
  std::replace(fn.begin(), fn.end(), '-', '_');
  std::ostringstream out;
  out << "# bash completion for " << name << ": generated by `" << name << " manual` from " << name
      << "'s option definitions (the same as --help); do not edit.\n";
  auto table = [&](const char* suffix, auto field) {
    out << fn << "_" << suffix << "() {\n  case $1 in\n";
    for (const auto& e : entries) {
      std::string words = field(e);
      if (!words.empty()) out << "    " << e.key << ") echo '" << words << "' ;;\n";
    }
    out << "  esac\n}\n";
  };
  table("subcommands", [](const CompletionEntry& e) { return Words(e.subcommands); });
  table("options", [](const CompletionEntry& e) { return Words(e.options); });
  table("valued", [](const CompletionEntry& e) { return Words(e.valued); });
  table("positional", [](const CompletionEntry& e) { return std::string(e.positional ? "yes" : ""); });
  std::string body = R"sh(# File names: bash-completion's _filedir when it is loaded, plain compgen -f otherwise.
@FN@_files() {
  if declare -F _filedir >/dev/null; then
    _filedir
  else
    compopt -o filenames 2>/dev/null
    local f
    while IFS= read -r f; do COMPREPLY+=("$f"); done < <(compgen -f -- "$cur")
  fi
}
@FN@() {
  local cur=${COMP_WORDS[COMP_CWORD]} path=@NAME@ i w skip=0
  COMPREPLY=()
  # The command path (ka, ka-netboot, ka-netboot-build) from the words before the cursor; the
  # value after an option that takes one is skipped.
  for ((i = 1; i < COMP_CWORD; i++)); do
    w=${COMP_WORDS[i]}
    if ((skip)); then skip=0; continue; fi
    case $w in
      --*=*) ;;
      -*) [[ " $(@FN@_valued "$path") " == *" $w "* ]] && skip=1 ;;
      *) [[ " $(@FN@_subcommands "$path") " == *" $w "* ]] && path=$path-$w ;;
    esac
  done
  if ((skip)) && [[ $cur != -* ]]; then
    @FN@_files
    return 0
  fi
  if [[ $cur == -* ]]; then
    while IFS= read -r w; do COMPREPLY+=("$w"); done < <(compgen -W "$(@FN@_options "$path")" -- "$cur")
    return 0
  fi
  while IFS= read -r w; do COMPREPLY+=("$w"); done < <(compgen -W "$(@FN@_subcommands "$path")" -- "$cur")
  if [[ -n $(@FN@_positional "$path") ]]; then
    @FN@_files
  fi
  return 0
}
complete -F @FN@ @NAME@
)sh";
  for (auto [from, to] : {std::pair<std::string, std::string>{"@FN@", fn}, {"@NAME@", name}}) {
    for (size_t at = body.find(from); at != std::string::npos; at = body.find(from, at + to.size()))
      body.replace(at, from.size(), to);
  }
  out << body;
  return out.str();
}

}  // namespace ka::cli
