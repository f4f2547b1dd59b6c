#include "cli/key_cmd.h"

#include <cstdio>

#include "crypto/key_file.h"
#include "crypto/private_file.h"
#include "crypto/secret_file.h"
#include "util/log.h"
#include "util/strings.h"

namespace ka::cli {

namespace {

int Fail(const char* cmd, const Status& s) {
  std::fprintf(stderr, "ka %s: %s\n", cmd, s.message().c_str());
  return s.code() == Status::Code::kInvalid || s.code() == Status::Code::kRefused ? 2 : 1;
}

constexpr const char* kKeyFooter = R"(
Keys are Ed25519 (libsodium). A key pair is two one-line text files:
  DIR/ka.key  ka-ed25519-secret:BASE64   the SECRET signing key, mode 0600 (DIR is 0700)
  DIR/ka.pub  ka-ed25519:BASE64          the public key, mode 0644, safe to copy anywhere
A fingerprint (ka:0123456789abcdef, from BLAKE2b-256 of the public key) names a key to humans:
compare it on both ends when you copy a .pub file.

Two keys matter:
  the golden's key     nodes accept only a stream signed by it
                       (ka netboot serve --trust-key ka.pub: kernel parameter ka.trust=;
                        ka receive / ka join --trust FILE|TEXT)
  an operator's key    remote commands (ka exec) run on a node only when signed by it
                       (ka netboot serve --operator-key ka.pub: kernel parameter ka.operator=;
                        ka receive / ka join --allow-remote-commands FILE|TEXT)
The secret key stays on the machine that signs; nodes only ever get public keys.

Examples:
  ka key new /etc/ka/golden            # prints the public key line and fingerprint
  ka key show /etc/ka/golden/ka.pub
  ka key show /etc/ka/golden/ka.key    # its public half (refused if group or others may read it)

Nothing is ever overwritten. Exit status: 0 done; 2 refused (a file exists, a file others may
read, not a key); 1 failure (I/O).)";

constexpr const char* kSecretFooter = R"(
The shared node secret (--secret-file on ka serve, send, receive, join, status, exec) authenticates
every connection of a session (docs/protocol.md). `ka secret new FILE` writes 32 random bytes
(raw, not text) with mode 0600 and never overwrites FILE. Copy it to the server and to every node
over a channel you trust (scp, configuration management); ka netboot serve --secret-file puts it in
ka/secret.img, which anyone on the boot network can fetch by TFTP: prefer --trust-key there
(docs/netboot.md).

A secret file that anyone may read (chmod 600 FILE), an empty one, or one estimated under 128 bits of
entropy (such as a short word) is refused (by ka netboot serve; the session commands are moving to the
same check): 32 random hex digits or `ka secret new` are enough.

Example:
  ka secret new /etc/ka/secret && scp -p /etc/ka/secret node:/etc/ka/secret

Exit status: 0 written; 2 refused (FILE exists); 1 failure (I/O).)";

}  // namespace

KeyCommands::KeyCommands(CLI::App& app) {
  key_ = app.add_subcommand("key", "Ed25519 key pairs: the golden's signing key, an operator's key (ka key new|show)");
  key_->require_subcommand(1);
  key_->footer(kKeyFooter);
  key_new_ = key_->add_subcommand("new", "Make a key pair: DIR/ka.key (secret, mode 600) and DIR/ka.pub (public)");
  key_new_->add_option("dir", path_, "Directory for ka.key and ka.pub (made with mode 700 if missing)")->required();
  key_new_->footer(kKeyFooter);
  key_show_ = key_->add_subcommand("show", "Print the public key line and fingerprint of a .pub or .key file");
  key_show_->add_option("file", path_, "A public key file (ka.pub), a secret key file (ka.key) or the key line")
      ->required();
  key_show_->footer(kKeyFooter);

  secret_ = app.add_subcommand("secret", "The shared node secret (ka secret new)");
  secret_->require_subcommand(1);
  secret_->footer(kSecretFooter);
  secret_new_ = secret_->add_subcommand("new", "Write a new node secret: 32 random bytes, mode 600, never overwriting");
  secret_new_->add_option("file", path_, "The secret file to create (it must not exist)")->required();
  secret_new_->footer(kSecretFooter);
}

bool KeyCommands::parsed() const { return key_->parsed() || secret_->parsed(); }

int KeyCommands::Run(bool verbose) {
  if (key_new_->parsed()) {
    InitLogging("key", verbose);
    return RunKeyNew();
  }
  if (key_show_->parsed()) {
    InitLogging("key", verbose);
    return RunKeyShow();
  }
  if (secret_new_->parsed()) {
    InitLogging("secret", verbose);
    return RunSecretNew();
  }
  return 2;
}

int KeyCommands::RunKeyNew() {
  crypto::PublicKey pub;
  Status s = crypto::WriteNewKeyPair(path_, &pub);
  if (!s.ok()) return Fail("key new", s);
  std::printf("public key:  %s\n", crypto::FormatPublicKey(pub).c_str());
  std::printf("fingerprint: %s\n", pub.Fingerprint().c_str());
  std::printf("%s/ka.key  the SECRET key (mode 600): keep it on the machine that signs, never give it to nodes\n",
              path_.c_str());
  std::printf("%s/ka.pub  the public key: give it to nodes (ka netboot serve --trust-key or --operator-key,\n"
              "%*s  ka receive / ka join --trust or --allow-remote-commands)\n",
              path_.c_str(), static_cast<int>(path_.size() + 7), "");
  return std::fflush(stdout) == 0 ? 0 : 1;
}

int KeyCommands::RunKeyShow() {
  crypto::PublicKey pub;
  // A secret key file shows its public half, once its mode is safe.
  auto peek = crypto::ReadPrivateFile(path_, 4096, "key file");
  if (peek.ok() && Trim(peek->content).rfind(crypto::kSecretKeyPrefix, 0) == 0) {
    auto k = crypto::LoadSigningKey(path_);
    if (!k.ok()) return Fail("key show", k.status());
    pub = k->pub;
  } else {
    auto p = crypto::LoadPublicKey(path_);
    if (!p.ok()) return Fail("key show", p.status());
    pub = *p;
  }
  std::printf("%s\n", crypto::FormatPublicKey(pub).c_str());
  std::printf("fingerprint: %s\n", pub.Fingerprint().c_str());
  return std::fflush(stdout) == 0 ? 0 : 1;
}

int KeyCommands::RunSecretNew() {
  Status s = crypto::WriteNewSecret(path_);
  if (!s.ok()) return Fail("secret new", s);
  std::printf("%s: a new node secret (32 random bytes, mode 600). Copy it to the server and every node over a\n"
              "channel you trust; use it with --secret-file %s\n",
              path_.c_str(), path_.c_str());
  return std::fflush(stdout) == 0 ? 0 : 1;
}

}  // namespace ka::cli
