#include "util/process.h"

#include <gtest/gtest.h>
#include <fcntl.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <string>

namespace ka {
namespace {

Subprocess Start(const std::string& cmd, Subprocess::Pipe d) {
  auto r = Subprocess::Start(cmd, d);
  EXPECT_TRUE(r.ok());
  return std::move(r).value();  // a move: the child must survive it
}

// Spawn: the child's descriptors and environment as asked; an exec failure is the
// child's exit 127 with the reason on its stderr.
TEST(Spawn, DescriptorsEnvironmentAndExecFailure) {
  int out[2];
  ASSERT_EQ(::pipe2(out, O_CLOEXEC), 0);
  std::string env_var = "KA_SPAWN_TEST=yes";
  char* envp[] = {env_var.data(), nullptr};
  SpawnOptions o;
  o.stdout_fd = out[1];
  o.stderr_fd = out[1];
  o.envp = envp;
  auto pid = Spawn({"/bin/sh", "-c", "echo $KA_SPAWN_TEST"}, o);
  ASSERT_TRUE(pid.ok()) << pid.status().message();
  int ws = 0;
  ASSERT_EQ(::waitpid(*pid, &ws, 0), *pid);
  EXPECT_TRUE(WIFEXITED(ws) && WEXITSTATUS(ws) == 0);
  auto missing = Spawn({"/nonexistent/ka-tool"}, o);
  ASSERT_TRUE(missing.ok());
  ASSERT_EQ(::waitpid(*missing, &ws, 0), *missing);
  EXPECT_TRUE(WIFEXITED(ws) && WEXITSTATUS(ws) == 127);
  ::close(out[1]);
  std::string text;
  char buf[256];
  for (ssize_t n; (n = ::read(out[0], buf, sizeof buf)) > 0;) text.append(buf, static_cast<size_t>(n));
  ::close(out[0]);
  EXPECT_EQ(text, "yes\ncannot run /nonexistent/ka-tool: No such file or directory\n");
  EXPECT_FALSE(Spawn({}).ok());
}

TEST(Subprocess, FeedsStdinAndReportsSuccess) {
  signal(SIGPIPE, SIG_IGN);
  Subprocess p = Start("test \"$(cat)\" = hello", Subprocess::Pipe::kToStdin);
  ASSERT_EQ(write(p.pipe(), "hello", 5), 5);
  p.ClosePipe();
  EXPECT_TRUE(p.Wait().ok());
}

TEST(Subprocess, ReadsStdout) {
  Subprocess p = Start("printf abc", Subprocess::Pipe::kFromStdout);
  char buf[8] = {};
  ASSERT_EQ(read(p.pipe(), buf, sizeof buf), 3);
  EXPECT_EQ(std::string(buf), "abc");
  EXPECT_TRUE(p.Wait().ok());
}

TEST(Subprocess, ExitStatusIsNamed) {
  Subprocess p = Start("exit 3", Subprocess::Pipe::kToStdin);
  Status s = p.Wait();
  EXPECT_FALSE(s.ok());
  EXPECT_NE(s.message().find("exited with status 3"), std::string::npos) << s.message();
  EXPECT_NE(s.message().find("exit 3"), std::string::npos);
}

TEST(Subprocess, SignalIsNamed) {
  Subprocess p = Start("kill -9 $$", Subprocess::Pipe::kToStdin);
  Status s = p.Wait();
  EXPECT_NE(s.message().find("signal 9"), std::string::npos) << s.message();
}

}  // namespace
}  // namespace ka

namespace ka {
namespace {

TEST(Subprocess, KillReachesWhatTheShellStarted) {
  auto r = Subprocess::Start("sleep 30; true", Subprocess::Pipe::kToStdin);
  ASSERT_TRUE(r.ok());
  Subprocess p = std::move(r).value();
  usleep(100 * 1000);
  auto t0 = std::chrono::steady_clock::now();
  p.Kill(SIGTERM);
  Status s = p.Wait();
  EXPECT_FALSE(s.ok());
  EXPECT_LT(std::chrono::steady_clock::now() - t0, std::chrono::seconds(5));  // not the 30 s sleep
}

}  // namespace
}  // namespace ka
