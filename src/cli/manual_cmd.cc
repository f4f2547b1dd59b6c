#include "cli/manual_cmd.h"

#include <cstdio>

namespace ka::cli {

ManualCommand::ManualCommand(CLI::App& app) {
  cmd_ = app.add_subcommand("manual", "Write the man pages and the bash completion script (used by the build)");
  cmd_->group("");  // hidden: a build tool, not part of the interface
  cmd_->add_option("--man-dir", man_dir_, "Write ka.1 and one ka-SUB.1 per subcommand into this directory");
  cmd_->add_option("--bash-completion", completion_file_, "Write the bash completion script to this file");
  cmd_->add_option("--date", date_, "The date in the pages' header (default: none, so the pages are reproducible)");
  cmd_->callback([this] {
    if (man_dir_.empty() && completion_file_.empty())
      throw CLI::ValidationError("manual", "give --man-dir DIR, --bash-completion FILE or both");
  });
}

bool ManualCommand::parsed() const { return cmd_->parsed(); }

int ManualCommand::Run(const CLI::App& app, const std::string& version, os::Env& env) const {
  auto fail = [](const Status& s) {  // the message names the path
    std::fprintf(stderr, "ka manual: %s\n", s.message().c_str());
    return 1;
  };
  if (!man_dir_.empty()) {
    if (Status s = env.MakeDirs(man_dir_); !s.ok()) return fail(s);
    for (const ManPage& page : MakeManPages(app, ManualInfo{version, date_})) {
      std::string path = man_dir_ + "/" + page.file;
      if (Status s = env.WriteFile(path, page.text, 0644); !s.ok()) return fail(s);
    }
  }
  if (!completion_file_.empty()) {
    if (Status s = env.WriteFile(completion_file_, MakeBashCompletion(app), 0644); !s.ok()) return fail(s);
  }
  return 0;
}

}  // namespace ka::cli
